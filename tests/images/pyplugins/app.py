"""pare-test/pyplugins: code highlighting and notes, written as a user would.

`GET /` highlights Python with a class imported by name; every other language, every
style and the database dialect are loaded by their packages only when a request
names them.
"""
import codecs
import os

from flask import Flask, abort, jsonify, request
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from sqlalchemy import create_engine, text

app = Flask(__name__)
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:////tmp/notes.db")
SAMPLE = 'def greet(name):\n    return f"hello {name}"\n'
_engine = None


def engine():
    global _engine
    if _engine is None:
        _engine = create_engine(DATABASE_URL)
        with _engine.begin() as c:
            c.execute(text("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)"))
    return _engine


@app.route("/")
def index():
    return highlight(SAMPLE, PythonLexer(), HtmlFormatter())


@app.route("/highlight")
def highlighted():
    lang = request.args.get("lang", "python")
    try:
        lexer = get_lexer_by_name(lang)
    except ClassNotFound:
        abort(400, f"unknown language {lang}")
    return highlight(request.args.get("code", ""), lexer, HtmlFormatter())


@app.route("/style.css")
def style():
    name = request.args.get("name", "default")
    try:
        get_style_by_name(name)
    except ClassNotFound:
        abort(400, f"unknown style {name}")
    css = HtmlFormatter(style=name).get_style_defs(".highlight")
    return css, 200, {"Content-Type": "text/css"}


@app.route("/notes", methods=["GET", "POST"])
def notes():
    with engine().begin() as c:
        if request.method == "POST":
            c.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": request.get_data(as_text=True)})
        rows = c.execute(text("SELECT id, body FROM notes ORDER BY id")).all()
    return jsonify([{"id": r.id, "body": r.body} for r in rows])


@app.route("/decode")
def decode():
    enc = request.args.get("enc", "utf-8")
    try:
        data = bytes.fromhex(request.args.get("hex", ""))
        codecs.lookup(enc)
    except (ValueError, LookupError) as e:
        abort(400, str(e))
    return jsonify(encoding=enc, text=data.decode(enc, errors="replace"))


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8096)
