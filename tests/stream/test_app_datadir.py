from pathlib import Path

from stream.app import create_app
from stream.settings import WorkerSettings


def test_faust_data_lives_under_the_configured_folder_per_app_id(tmp_path: Path) -> None:
    settings = WorkerSettings(
        kafka={"app_id": "fenghuo-datadir-test"}, data_dir=tmp_path, metrics={"port": 0}
    )
    app = create_app(settings)
    assert Path(app.conf.datadir) == tmp_path / "fenghuo-datadir-test"


def test_relative_data_folder_is_taken_from_the_project_not_the_working_directory() -> None:
    app = create_app(WorkerSettings(kafka={"app_id": "fenghuo-rel"}, metrics={"port": 0}))
    datadir = Path(app.conf.datadir)
    assert datadir.is_absolute()
    assert datadir.parts[-3:] == ("var", "worker", "fenghuo-rel")
