// Pushes to this device, on the notification settings page: subscribe with
// the server's VAPID key through the service worker /sw.js, and tell the
// server (POST /push/subscriptions); or unsubscribe and tell it too. The
// rest of the page works without this script.
"use strict";

(() => {
	const box = document.getElementById("push-device");
	if (!box) {
		return;
	}
	const state = document.getElementById("push-device-state");
	const on = document.getElementById("push-subscribe");
	const off = document.getElementById("push-unsubscribe");
	const say = (text) => { state.textContent = text; };
	if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
		say("This browser cannot receive pushes.");
		return;
	}

	const keyBytes = (b64) => {
		const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - b64.length % 4) % 4));
		return Uint8Array.from(s, (c) => c.charCodeAt(0));
	};
	const post = async (url, body) => {
		const res = await fetch(url, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify(body),
			credentials: "same-origin",
		});
		if (!res.ok && res.status !== 404) {
			let msg = "The server refused (" + res.status + ").";
			try {
				msg = (await res.json()).error.message || msg;
			} catch {}
			throw new Error(msg);
		}
	};
	const show = (sub) => {
		on.hidden = !!sub;
		off.hidden = !sub;
		if (sub) {
			say("Pushes come to this device.");
		} else if (Notification.permission === "denied") {
			say("This browser blocks agora's notifications: allow them in its site settings, then try again.");
		} else {
			say("Pushes do not come to this device.");
		}
	};

	let reg;
	navigator.serviceWorker.register("/sw.js", { scope: "/" })
		.then((r) => { reg = r; return navigator.serviceWorker.ready; })
		.then(() => reg.pushManager.getSubscription())
		.then(show)
		.catch((err) => say("Pushes cannot be set up here: " + err.message));

	on.addEventListener("click", async () => {
		on.disabled = true;
		try {
			if (await Notification.requestPermission() !== "granted") {
				show(null);
				return;
			}
			const res = await fetch(box.dataset.keyUrl, { credentials: "same-origin" });
			const { key } = await res.json();
			// A browser whose push service cannot be reached may never answer:
			// say so rather than wait for ever.
			const sub = await Promise.race([
				reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }),
				new Promise((_, fail) => setTimeout(() => fail(new Error("the browser's push service did not answer")), 8000)),
			]);
			await post("/push/subscriptions", sub.toJSON());
			show(sub);
		} catch (err) {
			say("Pushes could not be turned on: " + err.message);
		} finally {
			on.disabled = false;
		}
	});

	off.addEventListener("click", async () => {
		off.disabled = true;
		try {
			const sub = await reg.pushManager.getSubscription();
			if (sub) {
				await post("/push/subscriptions/delete", { endpoint: sub.endpoint });
				await sub.unsubscribe();
			}
			show(null);
		} catch (err) {
			say("Pushes could not be turned off: " + err.message);
		} finally {
			off.disabled = false;
		}
	});
})();
