"""Private redis-server processes for tests that kill, restart or cluster Redis (never the shared one)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import redis

from ivr.bench.harness import free_port


class RedisServer:
    """One redis-server on a free loopback port, with its own directory (append-only file and log)."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        extra: Sequence[str] = (),
        password: str | None = None,
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        self.binary = binary
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.password = password
        self.extra = [*extra, *(("--requirepass", password) if password else ())]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, appendonly: bool = True) -> RedisServer:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "yes" if appendonly else "no",
            "--appendfsync",
            "always",
            "--logfile",
            str(self.directory / "redis.log"),
            *self.extra,
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        self.wait_ready()
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, socket_connect_timeout=1, socket_timeout=5)

    def wait_ready(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with self.client() as client:
                    if client.ping():
                        return
            except redis.exceptions.RedisError:
                pass
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.directory / "redis.log"
        pytest.fail(
            f"redis-server on port {self.port} did not start: {log.read_text() if log.exists() else ''}"
        )

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything; only what append-only already wrote survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: the server keeps its connections but answers nothing, and takes in nothing, until
        resumed; then it runs what was sent meanwhile (CLIENT PAUSE would not show that)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()  # a stopped process would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


def free_port_pair(offset: int = 10000) -> int:
    """A free port whose port + offset is free too (Redis Cluster's bus listens on port + 10000)."""
    rng = random.Random()  # noqa: S311 - picks test ports, not secrets
    for _ in range(200):
        port = rng.randrange(20000, 65535 - offset)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
    pytest.fail("no free port pair for a Redis Cluster node")


class RedisClusterServers:
    """A real Redis Cluster of `masters` redis-server processes on loopback, made with
    `redis-cli --cluster create`; slots are spread across the masters."""

    def __init__(self, directory: Path, masters: int = 3) -> None:
        self.nodes = [
            RedisServer(
                directory / f"node{i}",
                port=free_port_pair(),
                extra=["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"],
            )
            for i in range(masters)
        ]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self) -> RedisClusterServers:
        try:
            return self._start()
        except BaseException:
            self.stop()  # no redis-server left behind when the cluster could not be made
            raise

    def _start(self) -> RedisClusterServers:
        for node in self.nodes:
            node.start(appendonly=False)
        cli = shutil.which("redis-cli")
        if cli is None:
            pytest.fail("redis-cli is not installed (.ci/run installs it with redis-server)")
        created = subprocess.run(  # noqa: S603 - redis-cli from PATH, loopback ports
            [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes), "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            pytest.fail(f"redis-cli --cluster create failed: {created.stdout}{created.stderr}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = []
            for node in self.nodes:
                with node.client() as client:
                    info = client.execute_command("CLUSTER", "INFO")
                    text = info.decode() if isinstance(info, bytes) else str(info)
                    states.append("cluster_state:ok" in text)
            if all(states):
                return self
            time.sleep(0.1)
        pytest.fail("the cluster did not reach cluster_state:ok")

    def keys_per_node(self) -> list[int]:
        counts = []
        for node in self.nodes:
            with node.client() as client:
                counts.append(int(client.dbsize()))
        return counts

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class SentinelServers:
    """A master, a replica of it, and one Sentinel watching them (quorum 1, fast failure detection)."""

    SERVICE = "ivrmaster"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.master = RedisServer(directory / "master")
        self.replica = RedisServer(
            directory / "replica", extra=["--replicaof", "127.0.0.1", str(self.master.port)]
        )
        self.sentinel_port = free_port()
        self.sentinel: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.SERVICE}/0"

    def start(self) -> SentinelServers:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> SentinelServers:
        self.master.start()
        self.replica.start()
        config = self.directory / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.directory}\n"
            f"logfile {self.directory / 'sentinel.log'}\n"
            f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.SERVICE} 1000\n"
            f"sentinel failover-timeout {self.SERVICE} 10000\n"
        )
        self.sentinel = subprocess.Popen(  # noqa: S603 - redis-server from PATH in sentinel mode
            [self.master.binary, str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait(self.replica_known, "the Sentinel did not find the replica")
        return self

    def sentinel_client(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, socket_connect_timeout=1, socket_timeout=5)

    def master_port(self) -> int | None:
        try:
            with self.sentinel_client() as client:
                found = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.SERVICE)
        except redis.exceptions.RedisError:
            return None
        return int(found[1]) if found else None

    def replica_known(self) -> bool:
        try:
            with self.sentinel_client() as client:
                replicas = client.execute_command("SENTINEL", "REPLICAS", self.SERVICE)
        except redis.exceptions.RedisError:
            return False
        return bool(replicas) and self.replica_in_sync()

    def replica_in_sync(self) -> bool:
        with self.master.client() as client:
            info = client.info("replication")
        return int(info.get("connected_slaves", 0)) >= 1

    def _wait(self, done: Callable[[], bool], failure: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.1)
        log = self.directory / "sentinel.log"
        pytest.fail(f"{failure}: {log.read_text()[-2000:] if log.exists() else ''}")

    def wait_for_failover(self, timeout: float = 30) -> None:
        """Until the Sentinel names the replica as the master."""
        self._wait(lambda: self.master_port() == self.replica.port, "no failover happened", timeout)

    def stop(self) -> None:
        if self.sentinel is not None:
            self.sentinel.terminate()
            self.sentinel.wait(timeout=10)
            self.sentinel = None
        self.replica.stop()
        self.master.stop()
