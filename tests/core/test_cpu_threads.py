"""The CPU thread count that sizes branches, eager chunk dispatch and FFT groups: XLA's, not the host's."""

from __future__ import annotations

import os

import pytest

from scatterjax._core import chunking
from scatterjax._core.cpu_threads import cpu_threads


@pytest.fixture
def host_of_64_cpus_limited_to_2(monkeypatch):
    monkeypatch.delenv("PJRT_NPROC", raising=False)
    monkeypatch.delenv("NPROC", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)


def test_counts_the_cpus_this_process_may_run_on(host_of_64_cpus_limited_to_2):
    assert cpu_threads() == 2
    if chunking.jax.default_backend() == "cpu":
        assert chunking.branch_count() == min(2, chunking.MAX_BRANCHES)


@pytest.mark.parametrize("name", ["PJRT_NPROC", "NPROC"])
def test_an_explicit_thread_count_wins(host_of_64_cpus_limited_to_2, monkeypatch, name):
    monkeypatch.setenv(name, "3")
    assert cpu_threads() == 3


def test_pjrt_nproc_before_nproc(host_of_64_cpus_limited_to_2, monkeypatch):
    monkeypatch.setenv("PJRT_NPROC", "5")
    monkeypatch.setenv("NPROC", "7")
    assert cpu_threads() == 5


@pytest.mark.parametrize("value", ["", "0", "-2", "four"])
def test_an_unusable_setting_falls_back_to_the_affinity(host_of_64_cpus_limited_to_2, monkeypatch, value):
    monkeypatch.setenv("PJRT_NPROC", value)
    assert cpu_threads() == 2


def test_without_affinity_the_cpu_count(host_of_64_cpus_limited_to_2, monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert cpu_threads() == 64
