/*
 * Chat widget of the City of Terrebonne's registration assistant: one <script> tag adds a French,
 * accessible chat panel that talks to Rasa over socket.io, or over REST where sockets are blocked.
 * Configuration: docs/widget.md.
 */
(function () {
  "use strict";

  if (window.TerrebonneAssistant) {
    return;
  }

  var SCRIPT = document.currentScript;
  var BASE_URL = new URL(".", SCRIPT && SCRIPT.src ? SCRIPT.src : location.href).href;
  var HISTORY_LIMIT = 100;

  var TEXT = {
    launcher: "Clavarder avec l'assistant",
    title: "Assistant des inscriptions en ligne",
    subtitle: "Ville de Terrebonne",
    welcome:
      "Bonjour! Je suis l'assistant virtuel des inscriptions en ligne. " +
      "Posez-moi votre question sur votre compte, votre mot de passe ou votre Carte Accès Terrebonne.",
    conversation: "Conversation avec l'assistant",
    inputLabel: "Votre message",
    placeholder: "Écrivez votre question…",
    send: "Envoyer",
    restart: "Recommencer",
    restartLabel: "Recommencer une nouvelle conversation",
    close: "Fermer",
    closeLabel: "Fermer l'assistant",
    you: "Vous :",
    bot: "L'assistant :",
    suggestions: "Réponses suggérées",
    newTab: " (s'ouvre dans un nouvel onglet)",
    typing: "L'assistant écrit…",
    loading: "Chargement de la conversation…",
    connecting: "Connexion à l'assistant…",
    offline:
      "Le service de clavardage est momentanément indisponible. " +
      "Vos messages seront envoyés dès le retour de la connexion.",
    slow: "La réponse prend plus de temps que d'habitude. Vous pouvez patienter ou réessayer.",
    noReply: "L'assistant n'a pas répondu. Vous pouvez réessayer.",
    retry: "Réessayer",
    pending: "En attente d'envoi",
    restarted: "Nouvelle conversation commencée.",
    endSession: "Terminer la session",
    endSessionLabel: "Terminer la session : effacer la conversation et votre identification",
    ended: "Session terminée. La conversation et votre identification sont effacées de cet appareil.",
  };

  var DEFAULTS = {
    serverUrl: "http://localhost:5005",
    socketPath: "/socket.io",
    transport: "auto",
    title: TEXT.title,
    subtitle: TEXT.subtitle,
    welcome: TEXT.welcome,
    colors: { primary: "#0b4f8a", onPrimary: "#ffffff" },
    tokenProvider: null,
    historyUrl: null,
    sessionUrl: null,
    feedbackUrl: null,
    feedbackAfterMs: 800,
    storageKey: "terrebonne-assistant",
    slowAfterMs: 8000,
    failAfterMs: 30000,
    open: false,
  };

  // ---------------------------------------------------------------- configuration

  function readConfig() {
    var cfg = {};
    var key;
    for (key in DEFAULTS) {
      cfg[key] = DEFAULTS[key];
    }
    var data = SCRIPT ? SCRIPT.dataset : {};
    var fromData = {
      serverUrl: data.serverUrl,
      socketPath: data.socketPath,
      transport: data.transport,
      title: data.title,
      subtitle: data.subtitle,
      welcome: data.welcome,
      historyUrl: data.historyUrl,
      sessionUrl: data.sessionUrl,
      feedbackUrl: data.feedbackUrl,
      storageKey: data.storageKey,
      open: data.open === undefined ? undefined : data.open === "true",
    };
    var fromPage = window.TerrebonneAssistantConfig || {};
    [fromData, fromPage].forEach(function (source) {
      for (key in source) {
        if (source[key] !== undefined && source[key] !== null && key in DEFAULTS) {
          cfg[key] = source[key];
        }
      }
    });
    cfg.colors = Object.assign({}, DEFAULTS.colors, fromPage.colors || {});
    if (data.primaryColor) {
      cfg.colors.primary = data.primaryColor;
    }
    cfg.serverUrl = String(cfg.serverUrl).replace(/\/+$/, "");
    cfg.slowAfterMs = Number(cfg.slowAfterMs);
    cfg.failAfterMs = Number(cfg.failAfterMs);
    cfg.feedbackAfterMs = Number(cfg.feedbackAfterMs);
    return cfg;
  }

  // ---------------------------------------------------------------- storage (never throws)

  function makeStore(area) {
    var memory = {};
    function backend() {
      try {
        return window[area];
      } catch (e) {
        return null;
      }
    }
    return {
      get: function (key, fallback) {
        var raw = null;
        try {
          raw = backend() ? backend().getItem(key) : memory[key];
        } catch (e) {
          raw = memory[key];
        }
        if (raw === null || raw === undefined) {
          return fallback;
        }
        try {
          return JSON.parse(raw);
        } catch (e) {
          return fallback;
        }
      },
      set: function (key, value) {
        var raw = JSON.stringify(value);
        memory[key] = raw;
        try {
          if (backend()) {
            backend().setItem(key, raw);
          }
        } catch (e) {
          /* quota or privacy mode: the in-memory copy is used */
        }
      },
      remove: function (key) {
        delete memory[key];
        try {
          if (backend()) {
            backend().removeItem(key);
          }
        } catch (e) {
          /* nothing stored */
        }
      },
    };
  }

  var local = makeStore("localStorage");
  var session = makeStore("sessionStorage");

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // A short fingerprint (FNV-1a) of who the page says the citizen is: the stored session belongs to
  // that person only, so a different person on the same browser never sees the previous conversation.
  function fingerprint(text) {
    var hash = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash.toString(16);
  }

  function ownerOf(token) {
    if (!token) {
      return "anonymous";
    }
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(atob(part));
      return fingerprint(String(claims.sub || claims.email || token));
    } catch (e) {
      return fingerprint(token);
    }
  }

  // ---------------------------------------------------------------- text rendering

  var SAFE_URL = /^(https?:|mailto:|tel:)/i;
  var INLINE = /\*\*([^*]+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"»])/g;

  function link(href, label) {
    if (!SAFE_URL.test(href)) {
      return document.createTextNode(label);
    }
    var a = document.createElement("a");
    a.href = href;
    a.textContent = label;
    if (/^https?:/i.test(href)) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      var hint = document.createElement("span");
      hint.className = "sr-only";
      hint.textContent = TEXT.newTab;
      a.appendChild(hint);
    }
    return a;
  }

  function appendInline(parent, text) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      if (match[1] !== undefined) {
        var strong = document.createElement("strong");
        strong.textContent = match[1];
        parent.appendChild(strong);
      } else if (match[2] !== undefined) {
        parent.appendChild(link(match[3], match[2]));
      } else {
        parent.appendChild(link(match[4], match[4]));
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  var BULLET = /^\s*(?:[-*•])\s+/;
  var NUMBERED = /^\s*\d+[.)]\s+/;

  // Markdown as Rasa responses use it: paragraphs, line breaks, lists, **bold** and links.
  function renderText(text) {
    var body = document.createDocumentFragment();
    var lines = String(text || "").split("\n");
    var list = null;
    var paragraph = null;
    lines.forEach(function (line) {
      var kind = BULLET.test(line) ? "ul" : NUMBERED.test(line) ? "ol" : null;
      if (kind) {
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = document.createElement(kind);
          body.appendChild(list);
        }
        var item = document.createElement("li");
        appendInline(item, line.replace(kind === "ul" ? BULLET : NUMBERED, ""));
        list.appendChild(item);
        paragraph = null;
        return;
      }
      list = null;
      if (!line.trim()) {
        paragraph = null;
        return;
      }
      if (paragraph) {
        paragraph.appendChild(document.createElement("br"));
      } else {
        paragraph = document.createElement("p");
        body.appendChild(paragraph);
      }
      appendInline(paragraph, line);
    });
    return body;
  }

  // Bot messages from the socket channel, the REST channel and the tracker, in one shape.
  function normalizeBot(message) {
    var buttons = message.quick_replies || message.buttons || [];
    var image = message.image || (message.attachment && message.attachment.payload && message.attachment.payload.src);
    return {
      from: "bot",
      text: message.text || "",
      image: image || null,
      buttons: buttons.map(function (b) {
        return { title: String(b.title), payload: String(b.payload) };
      }),
    };
  }

  // ---------------------------------------------------------------- transports

  function postJson(url, body, timeoutMs) {
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, timeoutMs);
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    }).then(
      function (response) {
        clearTimeout(timer);
        if (!response.ok) {
          throw { reachable: true, status: response.status };
        }
        return response.json();
      },
      function (error) {
        clearTimeout(timer);
        throw { reachable: error.name === "AbortError", status: 0 };
      }
    );
  }

  function probe(cfg) {
    return fetch(cfg.serverUrl + "/", { method: "GET", cache: "no-store" }).then(function (r) {
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
    });
  }

  // REST: one POST per message; the replies come back in the response.
  function RestLink(cfg, sessionId, events) {
    var retryTimer = null;
    var delay = 1000;
    var stopped = false;

    function check() {
      clearTimeout(retryTimer);
      probe(cfg).then(
        function () {
          if (!stopped) {
            delay = 1000;
            events.online();
          }
        },
        function () {
          if (!stopped) {
            events.offline();
            retryTimer = setTimeout(check, delay);
            delay = Math.min(delay * 2, 30000);
          }
        }
      );
    }

    return {
      name: "rest",
      start: check,
      retry: function () {
        delay = 1000;
        check();
      },
      stop: function () {
        stopped = true;
        clearTimeout(retryTimer);
      },
      send: function (item, metadata) {
        var body = { sender: sessionId, message: item.payload || item.text, metadata: metadata };
        postJson(cfg.serverUrl + "/webhooks/rest/webhook", body, 2 * cfg.failAfterMs).then(
          function (replies) {
            if (stopped) {
              return;
            }
            replies.forEach(function (reply) {
              events.bot(normalizeBot(reply));
            });
            events.turnDone();
          },
          function (error) {
            if (stopped) {
              return;
            }
            if (error.reachable) {
              events.noReply();
            } else {
              events.sendFailed(item);
              check();
            }
          }
        );
      },
    };
  }

  function loadSocketIo() {
    if (window.io) {
      return Promise.resolve(window.io);
    }
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = BASE_URL + "vendor/socket.io.min.js";
      tag.async = true;
      tag.onload = function () {
        if (window.io) {
          resolve(window.io);
        } else {
          reject(new Error("socket.io-client missing"));
        }
      };
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  // socket.io: Rasa's channel with session_persistence; replies arrive as `bot_uttered` events.
  // In "auto" mode, when the socket has never connected but the REST webhook answers, sockets are
  // taken as blocked (a proxy, a firewall) and the conversation goes on over REST. A socket that
  // was connected once keeps reconnecting by itself (the server is restarting).
  function SocketLink(cfg, sessionId, sessionKey, events, fallBackToRest) {
    var socket = null;
    var stopped = false;
    var everConnected = false;

    function tryRest() {
      probe(cfg).then(
        function () {
          if (!stopped && !(socket && socket.connected)) {
            stop();
            fallBackToRest();
          }
        },
        function () {
          /* the server is down altogether: keep reconnecting the socket */
        }
      );
    }

    function failed() {
      events.offline();
      if (cfg.transport === "auto" && !everConnected) {
        tryRest();
      }
    }

    function stop() {
      stopped = true;
      if (socket) {
        socket.off();
        socket.disconnect();
      }
    }

    return {
      name: "socket",
      start: function () {
        loadSocketIo().then(
          function (io) {
            if (stopped) {
              return;
            }
            socket = io(cfg.serverUrl, {
              path: cfg.socketPath,
              transports: ["websocket", "polling"],
              tryAllTransports: true,
              reconnectionDelay: 1000,
              reconnectionDelayMax: 10000,
              timeout: 5000,
            });
            socket.on("connect", function () {
              everConnected = true;
              // With its key, the socket joins the conversation's room (the replies of every tab of this
              // browser); without one, it gets only the replies to its own messages (bot/channels/web.py).
              socket.emit("session_request", sessionKey ? { session_id: sessionId, client_session: sessionKey } : { session_id: sessionId });
            });
            socket.on("session_confirm", function () {
              events.online();
            });
            socket.on("bot_uttered", function (message) {
              events.bot(normalizeBot(message));
            });
            socket.on("disconnect", function () {
              if (!stopped) {
                events.offline();
              }
            });
            socket.on("connect_error", failed);
            // A new attempt means the previous one failed, with an error or with a connection closed
            // during the handshake (which raises no connect_error).
            socket.io.on("reconnect_attempt", failed);
          },
          function () {
            if (cfg.transport === "auto") {
              fallBackToRest();
            } else {
              events.offline();
            }
          }
        );
      },
      retry: function () {
        if (socket && !socket.connected) {
          socket.connect();
        }
        if (cfg.transport === "auto") {
          tryRest();
        }
      },
      stop: stop,
      send: function (item, metadata) {
        socket.emit("user_uttered", {
          message: item.payload || item.text,
          session_id: sessionId,
          metadata: metadata,
        });
      },
    };
  }

  // ---------------------------------------------------------------- history from the server

  // `historyUrl` answers {"messages": [{"from": "user"|"bot", "text", "buttons"}]} for a session id
  // (bot/widget/serve.py's /history/{sessionId} reads Rasa's tracker with the API token).
  function serverHistory(cfg, sessionId, sessionKey) {
    var url = new URL(cfg.historyUrl.replace("{sessionId}", encodeURIComponent(sessionId)), location.href);
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, 5000);
    var headers = sessionKey ? { "X-Assistant-Session": sessionKey } : {};
    return fetch(url.href, { cache: "no-store", signal: controller.signal, headers: headers })
      .then(function (response) {
        clearTimeout(timer);
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        return (body.messages || []).slice(-HISTORY_LIMIT).map(function (message) {
          return message.from === "bot" ? normalizeBot(message) : { from: "user", text: String(message.text || "") };
        });
      });
  }

  // ---------------------------------------------------------------- client session key
  // `sessionUrl` (bot/widget/serve.py's /session) signs a key for the conversation; the widget keeps it
  // with the session id and sends it with every message (metadata `client_session`): an identification
  // is bound to it, so another browser that learns the session id gets nothing personal (bot/session.py).

  var KEY_RENEW_MS = 11 * 3600 * 1000;

  function postJson(url, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, 5000);
    return fetch(new URL(url, location.href).href, {
      method: "POST",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    }).then(function (response) {
      clearTimeout(timer);
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  // A new conversation takes its id from the server with its key (`fresh`); a key is renewed with the
  // key itself: the server gives no key to whoever only knows a conversation's id.
  function sessionKeyFor(cfg, stored, fresh) {
    if (!cfg.sessionUrl) {
      return Promise.resolve(null);
    }
    if (stored.key && stored.keyAt && Date.now() - stored.keyAt < KEY_RENEW_MS) {
      return Promise.resolve(stored.key);
    }
    if (!fresh && !stored.key) {
      return Promise.resolve(null);
    }
    return postJson(cfg.sessionUrl, fresh ? {} : { sessionId: stored.id, key: stored.key }).then(
      function (body) {
        if (fresh && body.sessionId) {
          stored.id = body.sessionId;
        }
        stored.key = body.key || null;
        stored.keyAt = Date.now();
        return stored.key;
      },
      function () {
        return null;
      }
    );
  }

  // Ends the conversation on the server (its identification and slots are gone); never blocks the widget.
  function endServerSession(cfg, sessionId, sessionKey) {
    if (!cfg.sessionUrl || !sessionId || !sessionKey) {
      return Promise.resolve(false);
    }
    return postJson(cfg.sessionUrl.replace(/\/+$/, "") + "/end", { sessionId: sessionId, key: sessionKey }).then(
      function () {
        return true;
      },
      function () {
        return false;
      }
    );
  }

  // ---------------------------------------------------------------- the widget

  function Widget(cfg) {
    var keys = {
      session: cfg.storageKey + ":session",
      transcript: cfg.storageKey + ":transcript",
      outbox: cfg.storageKey + ":outbox",
      open: cfg.storageKey + ":open",
    };
    var state = {
      sessionId: null,
      sessionKey: null,
      link: null,
      online: false,
      started: false,
      awaiting: null,
      lastSent: null,
      transcript: [],
      outbox: [],
      generation: 0,
    };
    var timers = { slow: null, fail: null, connecting: null, feedback: null };
    var ui = build();

    // ------------------------------------------------------------ DOM

    function el(tag, attrs, children) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (name) {
        if (name === "text") {
          node.textContent = attrs[name];
        } else if (name === "className") {
          node.className = attrs[name];
        } else {
          node.setAttribute(name, attrs[name]);
        }
      });
      (children || []).forEach(function (child) {
        node.appendChild(child);
      });
      return node;
    }

    function chatIcon() {
      var ns = "http://www.w3.org/2000/svg";
      var svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("width", "24");
      svg.setAttribute("height", "24");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("focusable", "false");
      svg.setAttribute("class", "launcher__icon");
      var path = document.createElementNS(ns, "path");
      path.setAttribute("fill", "currentColor");
      path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
      svg.appendChild(path);
      return svg;
    }

    function build() {
      var host = el("div", { id: "terrebonne-assistant", "data-state": "closed" });
      host.style.setProperty("--ta-primary", cfg.colors.primary);
      host.style.setProperty("--ta-on-primary", cfg.colors.onPrimary);
      host.hidden = true;
      var root = host.attachShadow({ mode: "open" });
      var css = el("link", { rel: "stylesheet", href: BASE_URL + "assistant.css" });
      function show() {
        host.hidden = false;
      }
      css.addEventListener("load", show);
      css.addEventListener("error", show);
      root.appendChild(css);

      var launcher = el("button", {
        type: "button",
        className: "launcher",
        "aria-expanded": "false",
        "aria-controls": "ta-panel",
      });
      launcher.appendChild(chatIcon());
      launcher.appendChild(el("span", { className: "launcher__label", text: TEXT.launcher }));

      var title = el("h2", { id: "ta-title", className: "header__title", text: cfg.title });
      var subtitle = el("p", { className: "header__subtitle", text: cfg.subtitle });
      var restart = el("button", {
        type: "button",
        className: "header__button",
        "aria-label": TEXT.restartLabel,
        text: TEXT.restart,
      });
      var endSession = el("button", {
        type: "button",
        className: "header__button header__button--end",
        "aria-label": TEXT.endSessionLabel,
        text: TEXT.endSession,
      });
      if (!cfg.sessionUrl) {
        endSession.hidden = true;
      }
      var close = el("button", {
        type: "button",
        className: "header__button header__button--close",
        "aria-label": TEXT.closeLabel,
        title: TEXT.close,
      });
      close.appendChild(el("span", { "aria-hidden": "true", text: "×" }));
      var header = el("div", { className: "header" }, [
        el("div", { className: "header__titles" }, [title, subtitle]),
        el("div", { className: "header__actions" }, [restart, close]),
        el("div", { className: "header__session" }, [endSession]),
      ]);

      var log = el("div", {
        className: "log",
        role: "log",
        "aria-live": "off",
        "aria-label": TEXT.conversation,
        tabindex: "0",
      });
      var typing = el("div", { className: "typing", hidden: "" }, [
        el("span", { className: "typing__dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
        el("span", { className: "sr-only", text: TEXT.typing }),
      ]);
      var statusText = el("span", { className: "status__text" });
      var retry = el("button", { type: "button", className: "status__retry", hidden: "", text: TEXT.retry });
      var status = el("div", { className: "status", role: "status", "data-kind": "none" }, [statusText, retry]);

      var input = el("input", {
        id: "ta-input",
        className: "form__input",
        type: "text",
        autocomplete: "off",
        maxlength: "500",
        placeholder: TEXT.placeholder,
      });
      var label = el("label", { for: "ta-input", className: "sr-only", text: TEXT.inputLabel });
      var sendButton = el("button", { type: "submit", className: "form__send", text: TEXT.send });
      var form = el("form", { className: "form" }, [label, input, sendButton]);

      var panel = el(
        "section",
        { id: "ta-panel", className: "panel", role: "dialog", "aria-labelledby": "ta-title", hidden: "" },
        [header, log, typing, status, form]
      );
      root.appendChild(launcher);
      root.appendChild(panel);
      document.body.appendChild(host);

      launcher.addEventListener("click", function () {
        toggle(true, true);
      });
      close.addEventListener("click", function () {
        toggle(false, true);
      });
      restart.addEventListener("click", restartConversation);
      endSession.addEventListener("click", endIdentifiedSession);
      retry.addEventListener("click", onRetry);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var text = input.value.trim();
        if (text) {
          input.value = "";
          send({ text: text });
        }
        input.focus();
      });
      panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          event.preventDefault();
          toggle(false, true);
        }
      });
      return {
        host: host,
        root: root,
        launcher: launcher,
        panel: panel,
        log: log,
        typing: typing,
        status: status,
        statusText: statusText,
        retry: retry,
        input: input,
      };
    }

    // ------------------------------------------------------------ rendering

    function scrollToEnd() {
      ui.log.scrollTop = ui.log.scrollHeight;
    }

    // Remove the groups of buttons that match; the focus goes back to the input if it was in one of them.
    function removeGroups(selector) {
      var groups = ui.log.querySelectorAll(selector);
      var hadFocus = false;
      Array.prototype.forEach.call(groups, function (group) {
        hadFocus = hadFocus || group.contains(ui.root.activeElement);
        group.remove();
      });
      if (hadFocus) {
        ui.input.focus();
      }
    }

    function removeSuggestions() {
      removeGroups(".suggestions");
    }

    // "Est-ce que cela vous a aidé?" under an answer (bot/feedback.py decides when, bot/widget/serve.py
    // records the answer; the words are responses of domain.yml sent with the prompt).
    function removeFeedback() {
      removeGroups(".feedback:not(.feedback--done)");
    }

    function scheduleFeedback() {
      clearTimeout(timers.feedback);
      if (!cfg.feedbackUrl || !state.sessionKey) {
        return;
      }
      var generation = state.generation;
      timers.feedback = setTimeout(function () {
        if (state.awaiting || state.outbox.length || generation !== state.generation) {
          return;
        }
        postJson(cfg.feedbackUrl.replace(/\/+$/, "") + "/prompt", { sessionId: state.sessionId, key: state.sessionKey }).then(
          function (body) {
            if (body && body.ask && body.texts && generation === state.generation && !state.awaiting) {
              renderFeedback(body.topic, body.texts);
            }
          },
          function () {
            /* no question when the server cannot be asked */
          }
        );
      }, cfg.feedbackAfterMs);
    }

    function recordFeedback(body) {
      body.sessionId = state.sessionId;
      body.key = state.sessionKey;
      return postJson(cfg.feedbackUrl, body).catch(function () {
        return null;
      });
    }

    function renderFeedback(topic, texts) {
      removeFeedback();
      var id = "ta-feedback-" + newSessionId().slice(0, 8);
      var question = el("p", { id: id, className: "feedback__question", text: texts.question });
      var choices = el("div", { className: "feedback__choices" });
      var group = el("div", { className: "feedback", role: "group", "aria-labelledby": id }, [question, choices]);

      function done() {
        group.classList.add("feedback--done");
        group.removeAttribute("role");
        group.removeAttribute("aria-labelledby");
        group.textContent = "";
        group.appendChild(el("p", { className: "feedback__thanks", text: texts.thanks }));
        ui.input.focus();
        scrollToEnd();
      }

      function choice(label, onClick) {
        var node = el("button", { type: "button", className: "suggestion feedback__choice", text: label });
        node.addEventListener("click", onClick);
        choices.appendChild(node);
        return node;
      }

      choice(texts.yes, function () {
        recordFeedback({ topic: topic, helpful: "oui" });
        done();
      });
      choice(texts.no, function () {
        recordFeedback({ topic: topic, helpful: "non" });
        var whyId = id + "-why";
        question.textContent = "";
        choices.textContent = "";
        question.appendChild(el("span", { id: whyId, text: texts.why }));
        group.setAttribute("aria-labelledby", whyId);
        var first = null;
        texts.reasons.forEach(function (reason) {
          var node = choice(reason.label, function () {
            recordFeedback({ topic: topic, reason: reason.value });
            done();
          });
          first = first || node;
        });
        if (first) {
          first.focus();
        }
        scrollToEnd();
      });
      ui.log.appendChild(group);
      scrollToEnd();
    }

    function renderEntry(entry, options) {
      var bubble = el("div", { className: "msg msg--" + entry.from });
      bubble.appendChild(el("span", { className: "sr-only", text: entry.from === "bot" ? TEXT.bot : TEXT.you }));
      var body = el("div", { className: "msg__body" });
      if (entry.from === "bot") {
        body.appendChild(renderText(entry.text));
        if (entry.image && SAFE_URL.test(entry.image)) {
          body.appendChild(el("img", { src: entry.image, alt: "", className: "msg__image" }));
        }
      } else {
        body.appendChild(el("p", { text: entry.text }));
      }
      bubble.appendChild(body);
      if (entry.pendingId) {
        bubble.setAttribute("data-pending", entry.pendingId);
        bubble.appendChild(el("span", { className: "msg__pending", text: TEXT.pending }));
      }
      ui.log.appendChild(bubble);
      if (entry.from === "bot" && entry.buttons && entry.buttons.length && options.withButtons) {
        var group = el("div", { className: "suggestions", role: "group", "aria-label": TEXT.suggestions });
        entry.buttons.forEach(function (button) {
          var node = el("button", { type: "button", className: "suggestion", text: button.title });
          node.addEventListener("click", function () {
            send({ text: button.title, payload: button.payload });
          });
          group.appendChild(node);
        });
        ui.log.appendChild(group);
      }
      scrollToEnd();
    }

    function renderWelcome() {
      if (cfg.welcome) {
        var bubble = el("div", { className: "msg msg--bot msg--welcome" }, [
          el("span", { className: "sr-only", text: TEXT.bot }),
        ]);
        var body = el("div", { className: "msg__body" });
        body.appendChild(renderText(cfg.welcome));
        bubble.appendChild(body);
        ui.log.appendChild(bubble);
      }
    }

    function remember(entry) {
      state.transcript.push({ from: entry.from, text: entry.text, buttons: entry.buttons, image: entry.image });
      state.transcript = state.transcript.slice(-HISTORY_LIMIT);
      session.set(keys.transcript, { sessionId: state.sessionId, entries: state.transcript });
    }

    function showTyping(on) {
      ui.typing.hidden = !on;
      if (on) {
        scrollToEnd();
      }
    }

    function setStatus(kind, text, withRetry) {
      ui.status.setAttribute("data-kind", kind);
      ui.statusText.textContent = text || "";
      ui.retry.hidden = !withRetry;
    }

    function clearStatus(kind) {
      if (!kind || ui.status.getAttribute("data-kind") === kind) {
        setStatus("none", "", false);
      }
    }

    // ------------------------------------------------------------ conversation

    function saveOutbox() {
      session.set(keys.outbox, { sessionId: state.sessionId, items: state.outbox });
    }

    function tokenNow() {
      if (typeof cfg.tokenProvider !== "function") {
        return Promise.resolve(null);
      }
      try {
        return Promise.resolve(cfg.tokenProvider()).then(
          function (token) {
            return token || null;
          },
          function () {
            return null;
          }
        );
      } catch (e) {
        return Promise.resolve(null);
      }
    }

    function send(item) {
      removeSuggestions();
      removeFeedback();
      clearTimeout(timers.feedback);
      clearStatus("restarted");
      item.id = newSessionId().slice(0, 8);
      renderEntry({ from: "user", text: item.text, pendingId: item.id }, {});
      state.outbox.push(item);
      saveOutbox();
      flush();
    }

    function flush() {
      if (!state.online || state.awaiting || !state.outbox.length) {
        return;
      }
      var item = state.outbox.shift();
      var generation = state.generation;
      state.awaiting = item;
      tokenNow().then(function (token) {
        if (generation !== state.generation || state.awaiting !== item) {
          return;
        }
        saveOutbox();
        var bubble = ui.log.querySelector('[data-pending="' + item.id + '"]');
        if (bubble) {
          bubble.removeAttribute("data-pending");
          var mark = bubble.querySelector(".msg__pending");
          if (mark) {
            mark.remove();
          }
        }
        var metadata = item.payload ? { button_title: item.text } : {};
        if (token) {
          metadata.token = token;
        }
        if (state.sessionKey) {
          metadata.client_session = state.sessionKey;
        }
        state.lastSent = item;
        remember({ from: "user", text: item.text });
        state.link.send(item, metadata);
        showTyping(true);
        armReplyTimers();
      });
    }

    function armReplyTimers() {
      clearTimeout(timers.slow);
      clearTimeout(timers.fail);
      timers.slow = setTimeout(function () {
        setStatus("slow", TEXT.slow, true);
      }, cfg.slowAfterMs);
      timers.fail = setTimeout(noReply, cfg.failAfterMs);
    }

    function noReply() {
      clearTimeout(timers.slow);
      clearTimeout(timers.fail);
      showTyping(false);
      state.awaiting = null;
      setStatus("no-reply", TEXT.noReply, true);
    }

    function replyArrived() {
      clearTimeout(timers.slow);
      clearTimeout(timers.fail);
      showTyping(false);
      clearStatus("slow");
      clearStatus("no-reply");
      if (state.awaiting) {
        state.awaiting = null;
        flush();
      }
    }

    function onRetry() {
      var kind = ui.status.getAttribute("data-kind");
      if ((kind === "slow" || kind === "no-reply") && state.lastSent) {
        clearStatus();
        state.awaiting = null;
        state.outbox.unshift({ text: state.lastSent.text, payload: state.lastSent.payload, id: "retry" });
        flush();
      } else if (state.link) {
        setStatus("connecting", TEXT.connecting, false);
        state.link.retry();
      }
      ui.input.focus();
    }

    function linkEvents(generation) {
      function current() {
        return generation === state.generation;
      }
      return {
        online: function () {
          if (!current()) {
            return;
          }
          clearTimeout(timers.connecting);
          state.online = true;
          clearStatus("offline");
          clearStatus("connecting");
          ui.host.setAttribute("data-transport", state.link.name);
          flush();
        },
        offline: function () {
          if (!current()) {
            return;
          }
          clearTimeout(timers.connecting);
          state.online = false;
          if (state.awaiting) {
            state.outbox.unshift(state.awaiting);
            state.awaiting = null;
            saveOutbox();
          }
          showTyping(false);
          setStatus("offline", TEXT.offline, true);
        },
        bot: function (entry) {
          if (!current()) {
            return;
          }
          renderEntry(entry, { withButtons: true });
          remember(entry);
          replyArrived();
          scheduleFeedback();
        },
        turnDone: function () {
          if (current()) {
            replyArrived();
          }
        },
        noReply: function () {
          if (current()) {
            noReply();
          }
        },
        sendFailed: function (item) {
          if (!current()) {
            return;
          }
          state.awaiting = null;
          state.online = false;
          clearTimeout(timers.slow);
          clearTimeout(timers.fail);
          showTyping(false);
          state.outbox.unshift(item);
          saveOutbox();
          setStatus("offline", TEXT.offline, true);
        },
      };
    }

    function connect() {
      var generation = state.generation;
      var events = linkEvents(generation);
      function useRest() {
        if (generation === state.generation) {
          state.link = RestLink(cfg, state.sessionId, events);
          state.link.start();
        }
      }
      state.link =
        cfg.transport === "rest"
          ? RestLink(cfg, state.sessionId, events)
          : SocketLink(cfg, state.sessionId, state.sessionKey, events, useRest);
      clearTimeout(timers.connecting);
      timers.connecting = setTimeout(function () {
        if (!state.online && ui.status.getAttribute("data-kind") === "none") {
          setStatus("connecting", TEXT.connecting, false);
        }
      }, 1000);
      state.link.start();
    }

    function restoreHistory(fresh) {
      var saved = session.get(keys.transcript, null);
      var localEntries = saved && saved.sessionId === state.sessionId ? saved.entries : [];
      var outbox = session.get(keys.outbox, null);
      state.outbox = outbox && outbox.sessionId === state.sessionId ? outbox.items : [];
      var fromServer =
        fresh || !cfg.historyUrl
          ? Promise.resolve(null)
          : serverHistory(cfg, state.sessionId, state.sessionKey).catch(function () {
              return null;
            });
      setStatus("loading", TEXT.loading, false);
      return fromServer.then(function (entries) {
        clearStatus("loading");
        state.transcript = entries && entries.length ? entries : localEntries;
        session.set(keys.transcript, { sessionId: state.sessionId, entries: state.transcript });
        renderWelcome();
        state.transcript.forEach(function (entry, index) {
          renderEntry(entry, { withButtons: index === state.transcript.length - 1 && !state.outbox.length });
        });
        state.outbox.forEach(function (item) {
          renderEntry({ from: "user", text: item.text, pendingId: item.id }, {});
        });
        ui.log.setAttribute("aria-live", "polite");
      });
    }

    function start(fresh) {
      state.started = true;
      state.generation += 1;
      state.online = false;
      state.awaiting = null;
      var generation = state.generation;
      return tokenNow().then(function (token) {
        var owner = ownerOf(token);
        var stored = local.get(keys.session, null);
        if (fresh || !stored || stored.owner !== owner || !stored.id) {
          if (stored && stored.owner !== owner) {
            endServerSession(cfg, stored.id, stored.key); // someone else on this computer now
          }
          stored = { id: newSessionId(), owner: owner };
          local.set(keys.session, stored);
          session.remove(keys.transcript);
          session.remove(keys.outbox);
          fresh = true;
        }
        return sessionKeyFor(cfg, stored, fresh).then(function (sessionKey) {
          if (sessionKey && generation === state.generation) {
            local.set(keys.session, stored);
          }
          state.sessionId = stored.id;
          ui.host.setAttribute("data-session", stored.id);
          state.sessionKey = sessionKey;
          return restoreHistory(fresh).then(function () {
            if (generation === state.generation) {
              connect();
            }
          });
        });
      });
    }

    // "Terminer la session": the same as Recommencer, said as the end of what the assistant knew of you.
    function endIdentifiedSession() {
      restartConversation(TEXT.ended);
    }

    function restartConversation(message) {
      endServerSession(cfg, state.sessionId, state.sessionKey);
      state.sessionKey = null;
      local.remove(keys.session);
      if (state.link) {
        state.link.stop();
      }
      clearTimeout(timers.slow);
      clearTimeout(timers.fail);
      showTyping(false);
      ui.log.setAttribute("aria-live", "off");
      ui.log.textContent = "";
      state.transcript = [];
      state.outbox = [];
      start(true).then(function () {
        setStatus("restarted", typeof message === "string" ? message : TEXT.restarted, false);
        ui.input.focus();
      });
    }

    function toggle(open, moveFocus) {
      ui.panel.hidden = !open;
      ui.launcher.setAttribute("aria-expanded", String(open));
      ui.host.setAttribute("data-state", open ? "open" : "closed");
      session.set(keys.open, open);
      if (open) {
        if (!state.started) {
          start(false);
        }
        if (moveFocus) {
          ui.input.focus();
        }
        scrollToEnd();
      } else if (moveFocus) {
        ui.launcher.focus();
      }
    }

    if (cfg.open || session.get(keys.open, false)) {
      toggle(true, false);
    }

    return {
      open: function () {
        toggle(true, true);
      },
      close: function () {
        toggle(false, true);
      },
      restart: restartConversation,
      endSession: endIdentifiedSession,
      sessionId: function () {
        return state.sessionId;
      },
    };
  }

  function boot() {
    window.TerrebonneAssistant = Widget(readConfig());
  }

  if (document.body) {
    boot();
  } else {
    document.addEventListener("DOMContentLoaded", boot);
  }
})();
