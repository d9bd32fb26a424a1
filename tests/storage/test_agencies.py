"""One agency across years: the normalised key, and cross-year checks that follow the files."""

from conftest import SAMPLES
from typer.testing import CliRunner

from extraction import pipeline
from extraction.cli import app
from extraction.storage import agencies, store


def test_key_drops_prefixes_and_the_regions_above_a_named_county():
    assert agencies.key("标题：淮安市洪泽区人民政府") == "洪泽区人民政府"
    assert agencies.key("江苏省淮安市洪泽区人民政府") == agencies.key("洪泽区人民政府") == "洪泽区人民政府"
    assert agencies.key(" 洪泽区 人民政府 ") == "洪泽区人民政府"
    assert agencies.key("杭州市下城区卫生健康局") == "下城区卫生健康局"


def test_key_keeps_a_city_naming_itself():
    assert agencies.key("淮安市人民政府") == "淮安市人民政府"
    assert agencies.key("淮安市市场监督管理局") == "淮安市市场监督管理局"
    assert agencies.key("市卫健局") == "市卫健局"
    assert agencies.key(None) is None and agencies.key("") is None


def two_years(tmp_path):
    """Sample 003 (德惠市卫生健康局, 2020) and the same report printed a year earlier under its full name."""
    text = SAMPLES[3].read_text(encoding="utf-8")
    head, rest = text[:200], text[200:]
    earlier = "标题：长春市" + head.replace("2020年", "2019年") + rest
    (tmp_path / "later.txt").write_text(text, encoding="utf-8")
    (tmp_path / "earlier.txt").write_text(earlier, encoding="utf-8")
    return tmp_path / "later.txt", tmp_path / "earlier.txt"


def cross_year(db, name):
    doc = next(d for d in store.documents(db) if d["name"].endswith(name))
    return [f for f in store.findings(db, doc["current_extraction"]) if agencies.is_cross_year(f.id)]


def test_an_earlier_year_arriving_later_rechecks_the_next_year(db, tmp_path):
    later, earlier = two_years(tmp_path)
    pipeline.run(db, [str(later)])
    assert cross_year(db, "later.txt") == []  # no previous year yet
    pipeline.run(db, [str(earlier)])
    docs = {d["name"].rsplit("/", 1)[-1]: d for d in store.documents(db)}
    assert docs["earlier.txt"]["agency"] != docs["later.txt"]["agency"]  # printed differently
    assert docs["earlier.txt"]["agency_key"] == docs["later.txt"]["agency_key"]
    checks = cross_year(db, "later.txt")
    assert any(f.id.startswith("applications.carried_over_vs_last_year.") for f in checks)
    current = db["current_findings"].count_where(
        "doc_id = ? and check_id like '%_vs_last_year.%'", [docs["later.txt"]["id"]]
    )
    assert current == len(checks)


def test_years_command_shows_the_agency_year_over_year(tmp_path):
    later, earlier = two_years(tmp_path)
    db = tmp_path / "x.db"
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(later), str(earlier), "--db", str(db)]).exit_code == 0
    result = runner.invoke(app, ["years", "淮安市德惠市卫生健康局", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "2019" in result.output and "2020" in result.output and "carried_over_vs_last_year" in result.output
    missing = runner.invoke(app, ["years", "不存在的机关", "--db", str(db)])
    assert missing.exit_code == 2
