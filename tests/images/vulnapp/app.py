"""pare-test/vulnapp: a small JSON API on old pinned packages, served on :8080."""

from importlib import metadata

import requests  # noqa: F401  (loaded with urllib3, idna, chardet, certifi; no network)
from flask import Flask, jsonify, render_template_string

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(message="hello from pare-test/vulnapp")


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/hello/<name>")
def hello(name):
    # Jinja2 renders (and escapes) the name.
    return render_template_string("Hello {{ name }}!", name=name)


@app.get("/api/versions")
def versions():
    names = ["flask", "werkzeug", "jinja2", "requests", "urllib3"]
    return jsonify({n: metadata.version(n) for n in names})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8080)
