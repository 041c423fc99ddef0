// agora's service worker (served at /sw.js, scope /): it shows the pushes
// the server sends, JSON {title, body, url, tag}, and a click on one
// focuses a window already on that conversation or opens it.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
	let data = {};
	if (event.data) {
		try {
			data = event.data.json();
		} catch {
			data = { body: event.data.text() };
		}
	}
	const options = {
		body: data.body || "",
		icon: "/assets/icon-192.png",
		badge: "/assets/icon-192.png",
		data: { url: data.url || "/" },
	};
	if (data.tag) {
		// One notification per conversation: a newer message replaces it, and
		// says so again.
		options.tag = data.tag;
		options.renotify = true;
	}
	event.waitUntil(self.registration.showNotification(data.title || "agora", options));
});

self.addEventListener("notificationclick", (event) => {
	event.notification.close();
	const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
	if (url.origin !== self.location.origin) {
		return; // only agora's own pages
	}
	event.waitUntil((async () => {
		const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
		for (const w of windows) {
			if (new URL(w.url).pathname === url.pathname && "focus" in w) {
				return w.focus();
			}
		}
		return self.clients.openWindow(url.href);
	})());
});
