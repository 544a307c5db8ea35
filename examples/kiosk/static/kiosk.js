// healthpass kiosk page: camera (getUserMedia), upload or pasted code -> POST /api/verify -> the card.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const card = $("card");
  const status = $("status");
  let busy = false;
  let stream = null;
  let timer = null;

  // The page starts in the checkpoint's language when kiosk.json sets one (the server writes it on <html>),
  // otherwise in the browser's preferred language among the three the cards speak, otherwise in zh-Hans.
  const LANGUAGES = ["zh-Hans", "zh-Hant", "en"];

  function preferred(tags) {
    for (const tag of tags) {
      let locale;
      try {
        locale = new Intl.Locale(tag).maximize(); // zh-TW, zh-HK -> script Hant; zh, zh-CN, zh-SG -> Hans
      } catch (err) {
        continue; // not a language tag
      }
      if (locale.language === "en") return "en";
      if (locale.language === "zh") return locale.script === "Hant" ? "zh-Hant" : "zh-Hans";
    }
    return "zh-Hans";
  }

  const configured = document.documentElement.dataset.language;
  const browser = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
  const initial = LANGUAGES.includes(configured) ? configured : preferred(browser);
  $("lang").value = initial;
  document.documentElement.lang = initial;
  $("lang").addEventListener("change", () => { document.documentElement.lang = $("lang").value; });

  async function send(body, kind) {
    busy = true;
    status.textContent = "…";
    try {
      const lang = $("lang").value;
      const response = await fetch("/api/verify?kind=" + kind + "&lang=" + encodeURIComponent(lang), {
        method: "POST",
        body: body,
        headers: { "Content-Type": kind === "text" ? "text/plain; charset=utf-8" : "application/octet-stream" },
      });
      const data = await response.json();
      if (!response.ok) {
        status.textContent = data.error || ("HTTP " + response.status);
        return null;
      }
      card.innerHTML = data.card; // a fragment the server built from the view, every value escaped
      card.dataset.verdict = data.verdict;
      card.dataset.colour = data.colour;
      card.dataset.error = data.error_code || "";
      card.dataset.seq = String(Number(card.dataset.seq) + 1);
      status.textContent = "";
      return data;
    } catch (err) {
      status.textContent = String(err);
      return null;
    } finally {
      busy = false;
    }
  }

  $("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) send(file, "image");
  });

  $("verify-text").addEventListener("click", () => {
    const text = $("text").value.trim();
    if (text) send(text, "text");
  });

  function stopCamera() {
    if (timer) clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("video").style.display = "none";
    document.body.dataset.camera = "off";
  }

  async function grab() {
    const video = $("video");
    if (busy || !stream || video.videoWidth === 0) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    if (!blob || !stream) return;
    const data = await send(blob, "image");
    if (data && data.error_code !== "no_code_found") stopCamera(); // a code was read: show its card
  }

  $("camera").addEventListener("click", async () => {
    if (stream) { stopCamera(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (err) {
      status.textContent = "camera: " + err.name;
      return;
    }
    const video = $("video");
    video.srcObject = stream;
    video.style.display = "block";
    document.body.dataset.camera = "on";
    timer = setInterval(grab, 700);
  });
})();
