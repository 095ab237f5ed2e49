/* The help desk's review inbox: lists the groups of bot/widget/serve.py's /review/api/groups and posts decisions. */
(function () {
  "use strict";

  var WHY = {
    not_understood: "non compris",
    off_topic: "répondu hors sujet",
    low_confidence: "compris avec peu de confiance",
    rated_no: "suivi d'un « non »",
  };
  var KEY = "terrebonne-review:token";
  var token = sessionStorage.getItem(KEY) || "";
  var intents = [];

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attrs[name];
      } else {
        node.setAttribute(name, attrs[name]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function say(text) {
    $("status").textContent = text;
  }

  function api(path, body) {
    var options = { headers: { Authorization: "Bearer " + token }, cache: "no-store" };
    if (body) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      if (response.status === 403) {
        throw new Error("token");
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function renderGroup(group) {
    var titleId = "group-" + group.key;
    var why = Object.keys(group.why)
      .map(function (name) {
        return (WHY[name] || name) + " : " + group.why[name];
      })
      .join(", ");
    var examples = el(
      "ul",
      {},
      group.examples.slice(0, 5).map(function (text) {
        return el("li", { text: "« " + text + " »" });
      })
    );
    var selectId = "intent-" + group.key;
    var select = el("select", { id: selectId });
    intents.forEach(function (name) {
      select.appendChild(el("option", { value: name, text: name }));
    });
    var predicted = Object.keys(group.predicted || {}).filter(function (name) {
      return intents.indexOf(name) >= 0;
    })[0];
    if (predicted) {
      select.value = predicted;
    }
    var assign = el("button", { type: "button", text: "Associer à cette intention" });
    var offTopic = el("button", { type: "button", class: "secondary", text: "Hors sujet" });
    var newAnswer = el("button", { type: "button", class: "secondary", text: "Nouvelle réponse à écrire" });
    var item = el("li", { class: "group" }, [
      el("h3", { id: titleId, text: group.count + " × « " + group.text + " »" }),
      el("p", { class: "why", text: why }),
      examples,
      el("div", { class: "actions" }, [
        el("label", { for: selectId, text: "Intention" }),
        select,
        assign,
        offTopic,
        newAnswer,
      ]),
    ]);

    function decide(body, label) {
      body.key = group.key;
      api("/review/api/decide", body).then(
        function () {
          var next = item.nextElementSibling || item.previousElementSibling;
          item.remove();
          say("Décision enregistrée pour « " + group.text + " » : " + label + ".");
          var focusable = next && next.querySelector("select");
          (focusable || $("inbox-title")).focus();
          updateSummary();
        },
        function () {
          say("La décision n'a pas pu être enregistrée. Réessayez.");
        }
      );
    }

    assign.addEventListener("click", function () {
      decide({ decision: "intent", intent: select.value }, select.value);
    });
    offTopic.addEventListener("click", function () {
      decide({ decision: "intent", intent: "out_of_scope" }, "hors sujet");
    });
    newAnswer.addEventListener("click", function () {
      decide({ decision: "new_answer" }, "nouvelle réponse à écrire");
    });
    return item;
  }

  function updateSummary() {
    var count = $("groups").children.length;
    $("summary").textContent = count ? count + " groupe(s) à réviser." : "Rien à réviser pour le moment.";
  }

  function load() {
    say("Chargement…");
    api("/review/api/groups").then(
      function (body) {
        intents = body.intents || [];
        var list = $("groups");
        list.textContent = "";
        body.groups.forEach(function (group) {
          list.appendChild(renderGroup(group));
        });
        $("login").hidden = true;
        $("inbox").hidden = false;
        $("inbox-title").setAttribute("tabindex", "-1");
        updateSummary();
        say(body.groups.length + " groupe(s) à réviser.");
        $("inbox-title").focus();
      },
      function (error) {
        if (error.message === "token") {
          sessionStorage.removeItem(KEY);
          say("Jeton du personnel refusé.");
          $("token").focus();
        } else {
          say("La boîte de révision est indisponible pour le moment.");
        }
      }
    );
  }

  $("login").addEventListener("submit", function (event) {
    event.preventDefault();
    token = $("token").value;
    sessionStorage.setItem(KEY, token);
    load();
  });

  if (token) {
    load();
  }
})();
