"""The baseline of bench_http.py: a Flask app that parses the JSON body and answers."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/", methods=["GET", "PATCH", "POST"])
def echo():
    body = request.get_json(silent=True)
    return jsonify({"ok": True, "fields": len(body) if body else 0})
