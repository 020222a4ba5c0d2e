// The service worker of Web Push notices: shows each notice the server pushes, and opens its
// page (a path inside the platform) when it is tapped. Served at /sw.js, so its scope is the site.
self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: event.data ? event.data.text() : "" };
  }
  event.waitUntil(self.registration.showNotification(data.title || "", {
    body: data.body || "",
    icon: "/static/favicon.svg",
    data: { link: data.link || "/notifications" }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var link = (event.notification.data && event.notification.data.link) || "/notifications";
  if (link.charAt(0) !== "/" || link.charAt(1) === "/") link = "/notifications";
  event.waitUntil(self.clients.openWindow(link));
});
