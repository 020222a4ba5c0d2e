// The notification settings page: turn on Web Push notices in this browser (a subscription to
// the browser's push service, kept by the server), or off again.
(function () {
  var button = document.getElementById("push-enable");
  if (!button) return;
  var off = document.getElementById("push-disable");
  var status = document.getElementById("push-status");
  function say(text) { status.textContent = text || ""; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.isSecureContext) {
    button.hidden = true;
    say(button.dataset.msgUnsupported);
    return;
  }
  function applicationKey(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function post(url, body) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) throw new Error(button.dataset.msgFailed);
      return response;
    });
  }
  function current() {
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    });
  }
  function show(subscription) {
    button.hidden = !!subscription;
    if (off) off.hidden = !subscription;
  }
  current().then(show);
  button.addEventListener("click", function () {
    button.disabled = true;
    say("");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error(button.dataset.msgDenied);
      return navigator.serviceWorker.register("/sw.js", { scope: "/" });
    }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: applicationKey(button.dataset.key)
      });
    }).then(function (subscription) {
      return post(button.dataset.url, subscription.toJSON()).then(function () {
        say(button.dataset.msgDone);
        show(subscription);
      });
    }).catch(function (error) {
      say(error && error.message ? error.message : button.dataset.msgFailed);
    }).then(function () { button.disabled = false; });
  });
  if (off) off.addEventListener("click", function () {
    current().then(function (subscription) {
      if (!subscription) return show(null);
      return post(off.dataset.url, { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      }).then(function () { say(off.dataset.msgDone); show(null); });
    }).catch(function () { say(button.dataset.msgFailed); });
  });
})();
