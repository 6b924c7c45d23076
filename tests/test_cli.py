"""The operator's and the measurer's command line: `bangban match`, `ask` and `catalogue check`."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from dialogs.text import WECHAT_TEXT_LIMIT

BUNDLED = Path(__file__).resolve().parents[1] / "knowledge" / "data"


def run(argv, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_match_prints_one_json_object_per_question_with_at_least_k_hits(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BANGBAN_DATA_DIR", str(tmp_path))
    code, out, _ = run(["match", "--top", "4", "--json"], capsys, monkeypatch,
                       stdin="结婚登记要带什么\n\n你会唱歌吗\n駕駛證增駕\n护照过期了怎么换\n")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["q"] for r in rows] == ["结婚登记要带什么", "你会唱歌吗", "駕駛證增駕", "护照过期了怎么换"]
    first = rows[0]
    assert first["decision"] == "answer" and "结婚登记" in first["hits"][0]["name"]
    assert len(first["hits"]) == 4
    assert [h["score"] for h in first["hits"]] == sorted((h["score"] for h in first["hits"]), reverse=True)
    assert set(first["hits"][0]) == {"id", "name", "score"}
    assert rows[1]["decision"] == "decline"
    assert rows[2]["hits"][0]["name"] == "机动车驾驶证增加准驾车型"
    renew = rows[3]  # the service that issues passports, not a progress query or a decline
    assert renew["decision"] != "decline" and renew["hits"][0]["name"] == "办理及加注普通护照"


def test_ask_prints_what_the_citizen_reads_within_one_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "结婚登记在哪办"], capture_output=True,
                            text=True, env={"BANGBAN_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                            cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert result.returncode == 0, result.stderr
    text = result.stdout.strip()
    assert text.startswith("【结婚登记】") and "办理地点" in text
    assert len(text.encode("utf-8")) <= WECHAT_TEXT_LIMIT


def test_catalogue_check_accepts_the_bundled_data(capsys, monkeypatch):
    code, out, _ = run(["catalogue", "check", str(BUNDLED / "hall"), str(BUNDLED / "lexicon"),
                        str(BUNDLED / "decision.toml")], capsys, monkeypatch)
    assert code == 0 and out.count(": ok") == 3


def test_catalogue_check_prints_every_problem_with_file_and_line_and_fails(capsys, monkeypatch, tmp_path):
    guides = tmp_path / "guides.jsonl"
    guides.write_text('{"id": "X-1", "name": "测试事项", "unit": "某局", "materails": []}\n'
                      '{"id": "X-2", "name": "另一事项", "unit": "某局", "online_booking": "yes"}\n'
                      "{not json\n", encoding="utf-8")
    code, out, err = run(["catalogue", "check", str(guides)], capsys, monkeypatch)
    assert code == 1
    assert f"{guides}:1: materails: unknown field" in out
    assert f"{guides}:2: online_booking" in out
    assert f"{guides}:3:" in out and "not valid JSON" in out
    assert "3 problem(s)" in err


def test_catalogue_check_finds_a_broken_lexicon(capsys, monkeypatch, tmp_path):
    lexicon = tmp_path / "lexicon"
    shutil.copytree(BUNDLED / "lexicon", lexicon)
    with (lexicon / "aliases.txt").open("a", encoding="utf-8") as f:
        f.write("驾照 => 驾驶执照本\n")
    code, out, _ = run(["catalogue", "check", str(lexicon)], capsys, monkeypatch)
    assert code == 1 and "aliases.txt" in out and "驾照" in out and "already maps" in out


@pytest.mark.parametrize("path", ["/nonexistent/list.csv"])
def test_catalogue_check_names_a_missing_path(capsys, monkeypatch, path):
    code, _, err = run(["catalogue", "check", path], capsys, monkeypatch)
    assert code == 1 and "no such file" in err


def test_adding_a_staff_account_without_a_terminal_asks_for_the_password_variable(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BANGBAN_DATA_DIR", str(tmp_path))  # its own SQLite database, whatever CI points at
    for name in ("DATABASE_URL", "REDIS_URL", "BANGBAN_STAFF_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(["staff", "add", "王芳", "--unit", "区民政局", "--role", "帮办代办员", "--username", "wangfang"],
                       capsys, monkeypatch)
    assert code == 1 and "set BANGBAN_STAFF_PASSWORD" in err and "Traceback" not in err
    monkeypatch.setenv("BANGBAN_STAFF_PASSWORD", "a-long-password")
    code, _, _ = run(["staff", "add", "王芳", "--unit", "区民政局", "--role", "帮办代办员", "--username", "wangfang"],
                     capsys, monkeypatch)
    assert code == 0
    code, out, _ = run(["staff", "list"], capsys, monkeypatch)
    assert code == 0 and "wangfang" in out
