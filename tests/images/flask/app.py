"""pare-test/flask: a very small JSON REST API, served by gunicorn on :8080."""

from importlib import metadata

import yaml
from flask import Flask, abort, jsonify, request

SETTINGS = yaml.safe_load(
    """
service: pare-test-flask
greeting: hello from pare-test/flask
"""
)

app = Flask(__name__)

# In-memory and per worker process: a POSTed item lives only in the worker
# that took the request.
ITEMS = {
    1: {"id": 1, "name": "alpha", "qty": 3},
    2: {"id": 2, "name": "beta", "qty": 5},
}


@app.get("/")
def index():
    return jsonify(message=SETTINGS["greeting"], service=SETTINGS["service"])


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/api/items")
def list_items():
    return jsonify(items=[ITEMS[k] for k in sorted(ITEMS)])


@app.get("/api/items/<int:item_id>")
def get_item(item_id):
    item = ITEMS.get(item_id)
    if item is None:
        abort(404)
    return jsonify(item)


@app.post("/api/items")
def create_item():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return jsonify(error="expected a JSON object with a string 'name'"), 400
    item_id = max(ITEMS) + 1
    item = {"id": item_id, "name": body["name"], "qty": int(body.get("qty", 0))}
    ITEMS[item_id] = item
    return jsonify(item), 201


@app.get("/api/versions")
def versions():
    names = ["flask", "gunicorn", "requests", "pyyaml"]
    return jsonify({n: metadata.version(n) for n in names})


@app.errorhandler(404)
def not_found(_err):
    return jsonify(error="not found"), 404
