// Side-by-side playback: one set of controls drives every video; the first video is the clock.
(() => {
  const videos = [...document.querySelectorAll("[data-compare-video]")];
  const controls = document.querySelector("[data-compare-controls]");
  if (videos.length < 2 || !controls) return;
  const play = controls.querySelector("[data-compare-play]");
  const seek = controls.querySelector("[data-compare-seek]");
  const loop = controls.querySelector("[data-compare-loop]");
  const clock = videos[0];
  const longest = () => Math.max(...videos.map((v) => v.duration || 0));
  let dragging = false;

  const setAll = (time) => videos.forEach((v) => { v.currentTime = Math.min(time, (v.duration || time) - 0.01); });
  play.addEventListener("click", () => {
    if (clock.paused) {
      setAll(clock.currentTime);
      Promise.all(videos.map((v) => v.play().catch(() => {})));
      play.textContent = "Pause all";
    } else {
      videos.forEach((v) => v.pause());
      play.textContent = "Play all";
    }
  });
  seek.addEventListener("input", () => { dragging = true; setAll((seek.value / 1000) * longest()); });
  seek.addEventListener("change", () => { dragging = false; });
  clock.addEventListener("timeupdate", () => {
    if (!dragging && longest()) seek.value = Math.round((clock.currentTime / longest()) * 1000);
    // Keep the others within a frame or two of the clock.
    videos.slice(1).forEach((v) => { if (!v.paused && Math.abs(v.currentTime - clock.currentTime) > 0.12) v.currentTime = clock.currentTime; });
  });
  clock.addEventListener("ended", () => {
    if (loop.checked) { setAll(0); videos.forEach((v) => v.play().catch(() => {})); } else { play.textContent = "Play all"; }
  });
})();
