/* Demo page: a pretend portal login (Marie Tremblay or anonymous) whose token the widget sends. */
(function () {
  "use strict";

  var demo = window.TerrebonneDemo || { serverUrl: "http://127.0.0.1:5005", demoLogin: false };
  var KEY = "terrebonne-demo:login";

  function who() {
    try {
      return localStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }

  function logIn(name) {
    try {
      if (name) {
        localStorage.setItem(KEY, name);
      } else {
        localStorage.removeItem(KEY);
      }
    } catch (e) {
      /* storage blocked: the page stays anonymous */
    }
    location.reload();
  }

  // The portal's settings; anything the page set before (window.TerrebonneAssistantConfig) wins.
  window.TerrebonneAssistantConfig = Object.assign({
    serverUrl: demo.serverUrl,
    historyUrl: "/history/{sessionId}",
    sessionUrl: "/session",
    feedbackUrl: "/feedback",
    tokenProvider: function () {
      if (who() !== "marie") {
        return null;
      }
      return fetch("/demo-token?as=marie", { cache: "no-store" })
        .then(function (response) {
          return response.ok ? response.json() : {};
        })
        .then(function (body) {
          return body.token || null;
        });
    },
  }, window.TerrebonneAssistantConfig || {});

  function setUp() {
    var portal = document.getElementById("portail");
    if (!demo.demoLogin) {
      return;
    }
    portal.hidden = false;
    var marie = who() === "marie";
    document.getElementById("portail-etat").textContent = marie
      ? "Vous êtes connectée en tant que Marie Tremblay (démo)."
      : "Vous naviguez en mode anonyme.";
    document.body.setAttribute("data-login", marie ? "marie" : "anonymous");
    document.getElementById("login-marie").addEventListener("click", function () {
      logIn("marie");
    });
    document.getElementById("login-anonymous").addEventListener("click", function () {
      logIn(null);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
