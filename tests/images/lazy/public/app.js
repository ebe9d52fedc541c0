// pare-test/lazy: served by express.static.
document.querySelectorAll("form").forEach((f) => f.addEventListener("submit", () => f.classList.add("sent")));
