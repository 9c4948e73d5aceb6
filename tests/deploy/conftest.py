"""The packages, built once a run for every deploy test that installs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.package_build import build_packages, mirror_reachable


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """This checkout's packages, at the version build-packages.sh gives them."""
    if not mirror_reachable():
        pytest.skip("no network to Debian's mirror (and PyPI): the packages cannot be built")
    return build_packages(tmp_path_factory.mktemp("dist"))
