"""A student and a teacher in Python, written from docs/protocol.md and the README alone.

Uses python-socketio and requests only (scripts/docs-client-python/requirements.txt); run by
test/docs-client/python-client.test.ts in npm test. Starts its
own development node with the demo organisation (README "Quick start") and a 30 s access token,
unless --url names a running service whose demo accounts it may use. Exits 0 when every check
passed, 1 otherwise, printing one line per check.

    bash scripts/test-setup.sh          # installs them into .cache/venv, pinned
    .cache/venv/bin/python scripts/docs-client-python/client.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket as net
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

import requests
import socketio

ORG = "demo"
TEACHER = ("ada@demo.school", "teacher-demo-pass")
STUDENT_PASSWORD = "student-demo-pass"
# the classroom the teacher saves for CS101 before opening (protocol.md §9: a circle)
ROOM = {"lat": 48.8566, "lon": 2.3522, "radiusM": 60}
FAILURES: list[str] = []


def check(name: str, ok: bool, detail: Any = "") -> None:
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        FAILURES.append(name)


def wait_for(what: str, ok: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if ok():
            return True
        time.sleep(0.05)
    check(f"waited {seconds} s for {what}", False, "never came")
    return False


class Account:
    """A login kept fresh over HTTP (protocol.md §1) with its sockets' renewal (§3)."""

    def __init__(self, base: str, email: str, password: str) -> None:
        self.base = base
        answer = requests.post(
            f"{base}/api/v1/auth/login",
            json={"email": email, "password": password, "organisation": ORG},
            timeout=10,
        )
        answer.raise_for_status()
        body = answer.json()
        self.access = body["accessToken"]
        self.refresh_token = body["refreshToken"]
        self.user = body["user"]
        self.lock = threading.Lock()

    def refresh(self) -> str:
        with self.lock:  # one refresh at a time: a refresh token works once (§1)
            answer = requests.post(
                f"{self.base}/api/v1/auth/refresh", json={"refreshToken": self.refresh_token}, timeout=10
            )
            answer.raise_for_status()
            body = answer.json()
            self.access, self.refresh_token = body["accessToken"], body["refreshToken"]
            return self.access

    def http(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.base}/api/v1{path}", headers={"authorization": f"Bearer {self.access}"}, timeout=10, **kwargs
        )


class Client:
    """One socket (protocol.md §2): the token in the handshake's auth, never in the query string."""

    def __init__(self, base: str, account: Account) -> None:
        self.account = account
        self.events: list[tuple[str, Any]] = []
        self.renewed: list[str] = []
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.connects = 0
        self.on_connect: Callable[[], None] | None = None

        @self.sio.event
        def connect() -> None:
            self.connects += 1
            if self.on_connect is not None:
                # rooms do not survive a reconnection (§2): join or watch again, off the reader thread
                threading.Thread(target=self.on_connect, daemon=True).start()

        @self.sio.on("*")
        def any_event(event: str, data: Any) -> None:
            self.events.append((event, data))

        @self.sio.on("auth:expiring")
        def expiring(data: Any) -> None:
            self.events.append(("auth:expiring", data))

            def renew() -> None:
                ack = self.sio.call("auth:renew", {"token": self.account.refresh()}, timeout=10)
                self.renewed.append(ack["data"]["expiresAt"] if ack.get("ok") else f"refused {ack}")

            threading.Thread(target=renew, daemon=True).start()

        # the function form, so every reconnection sends the current token (§2)
        self.sio.connect(
            base, auth=lambda: {"token": self.account.access}, transports=["websocket"], wait_timeout=10
        )

    def ask(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.sio.call(event, payload, timeout=10)

    def data(self, event: str, payload: dict[str, Any]) -> Any:
        ack = self.ask(event, payload)
        if not ack.get("ok"):
            raise RuntimeError(f"{event}: {ack}")
        return ack["data"]

    def seen(self, event: str, test: Callable[[Any], bool] = lambda _: True) -> list[Any]:
        return [data for name, data in list(self.events) if name == event and test(data)]


class Roster:
    """The teacher's roster by §8's apply rule: one entry per student, newer recordVersion wins."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.version = snapshot["version"]
        self.entries = {e["studentId"]: e for e in snapshot["entries"]}
        self.lock = threading.Lock()

    def apply(self, updates: dict[str, Any]) -> None:
        with self.lock:
            for update in updates["updates"]:
                entry = update["entry"]
                held = self.entries.get(entry["studentId"])
                if held is None or entry["recordVersion"] > held["recordVersion"]:
                    self.entries[entry["studentId"]] = entry
                self.version = max(self.version, update["version"])


def fix(lat: float, lon: float, accuracy: float, age_s: float = 2) -> dict[str, Any]:
    # timestamp in epoch milliseconds (a value in seconds reads as 1970: §5.7)
    return {"lat": lat, "lon": lon, "accuracy": accuracy, "timestamp": int((time.time() - age_s) * 1000)}


def free_port() -> int:
    with net.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(repo: str) -> tuple[str, subprocess.Popen[bytes], str]:
    data_dir = tempfile.mkdtemp(prefix="docs24-py-")
    port = free_port()
    env = dict(
        os.environ,
        DATA_DIR=data_dir,
        PORT=str(port),
        HOST="127.0.0.1",
        LOG_LEVEL="warn",
        FACE_ENABLED="false",
        BCRYPT_COST="4",
        ACCESS_TOKEN_TTL_S="30",
    )
    node = subprocess.Popen(
        ["node", "--import", "tsx", "src/index.ts"], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return base, node, data_dir
        except requests.ConnectionError:
            pass
        if node.poll() is not None:
            raise SystemExit(f"the node exited: {node.stderr.read().decode() if node.stderr else ''}")
        time.sleep(0.3)
    node.kill()
    raise SystemExit("no /readyz 200 within 90 s")


def run(base: str, token_ttl_s: int) -> None:
    teacher = Account(base, *TEACHER)
    subject = teacher.http("GET", "/subjects", params={"q": "CS101"}).json()["items"][0]
    saved = teacher.http("PUT", f"/subjects/{subject['id']}/location", json=ROOM)
    check("the teacher saves the classroom location", saved.status_code == 200, saved.text)

    staff = Client(base, teacher)
    opened = staff.ask("session:open", {"subjectId": subject["id"], "policy": {"preset": "location-code"}})
    if not opened["ok"] and opened["error"]["code"] == "SESSION_ALREADY_OPEN":
        for old in opened["error"].get("details", {}).get("sessionIds", []):
            staff.data("session:close", {"sessionId": old})
        opened = staff.ask("session:open", {"subjectId": subject["id"], "policy": {"preset": "location-code"}})
    check("session:open answers a SessionView", opened.get("ok") is True, opened)
    session = opened["data"]
    sid = session["id"]
    roster = Roster(staff.data("session:watch", {"sessionId": sid}))
    staff.sio.on("roster:updates", roster.apply)
    staff.on_connect = lambda: setattr(staff, "resnapshot", Roster(staff.data("session:watch", {"sessionId": sid})))
    check("the snapshot lists every enrolled student as not-yet", all(e["status"] == "not-yet" for e in roster.entries.values()))
    code = staff.data("session:code", {"sessionId": sid})
    check("session:code gives six digits", len(code["code"]) == 6 and code["code"].isdigit(), code)

    def student(n: int) -> Client:
        return Client(base, Account(base, f"student{n:02d}@demo.school", STUDENT_PASSWORD))

    inside = fix(ROOM["lat"] + 0.0001, ROOM["lon"], 8)  # about 11 m from the centre

    # 1. the ordinary check-in, listed and joined first (§7, student)
    ana = student(1)
    listed = ana.data("session:list-active", {})
    check("session:list-active lists the open session", any(s["id"] == sid for s in listed), listed)
    joined = ana.data("session:join", {"sessionId": sid})
    check("session:join answers checkin null before a check-in", joined["checkin"] is None, joined)
    first = ana.data("checkin:submit", {"sessionId": sid, "location": inside, "code": code["code"]})
    check("inside with the code: present", first["status"] == "present" and first["reason"] is None, first)
    wait_for("the teacher's roster to show the check-in", lambda: roster.entries[ana.account.user["id"]]["status"] == "present")

    # 2. refusals that are successful commands (rejected, with a reason and attempts left)
    ben = student(2)
    wrong = ben.data("checkin:submit", {"sessionId": sid, "location": inside, "code": "000000" if code["code"] != "000000" else "111111"})
    check("a wrong code: rejected CODE_INVALID, one attempt left", (wrong["status"], wrong["reason"], wrong["attemptsLeft"]) == ("rejected", "CODE_INVALID", 1), wrong)
    fresh = staff.data("session:code", {"sessionId": sid})["code"]
    retried = ben.data("checkin:submit", {"sessionId": sid, "location": inside, "code": fresh})
    check("the retry with the code: present, same record", retried["status"] == "present" and retried["recordId"] == wrong["recordId"] and retried["attempts"] == 2, retried)

    cleo = student(3)
    outside = cleo.data("checkin:submit", {"sessionId": sid, "location": fix(ROOM["lat"] + 0.01, ROOM["lon"], 10), "code": fresh})
    check("a fix 1.1 km away: rejected GEOFENCE_OUTSIDE", (outside["status"], outside["reason"]) == ("rejected", "GEOFENCE_OUTSIDE"), outside)
    stale = cleo.data("checkin:submit", {"sessionId": sid, "location": {**inside, "timestamp": int(time.time())}, "code": fresh})
    check("a timestamp in seconds reads as 1970: rejected LOCATION_STALE, attempts spent", (stale["status"], stale["reason"], stale["attemptsLeft"]) == ("rejected", "LOCATION_STALE", 0), stale)
    again = cleo.data("checkin:submit", {"sessionId": sid, "location": inside, "code": fresh})
    check("no attempt left: the final record comes back unchanged", again["recordVersion"] == stale["recordVersion"], again)
    eve = student(6)
    missing = eve.ask("checkin:submit", {"sessionId": sid, "code": fresh})
    check("no location in a geofence session: LOCATION_REQUIRED, nothing written", not missing["ok"] and missing["error"]["code"] == "LOCATION_REQUIRED", missing)
    final_without_fix = cleo.data("checkin:submit", {"sessionId": sid, "code": fresh})
    check("a final record comes back even to a payload without a fix", final_without_fix["recordVersion"] == stale["recordVersion"], final_without_fix)
    unknown = cleo.ask("checkin:submit", {"sessionId": sid, "location": inside, "code": fresh, "studentId": "someone"})
    check("a payload naming a student: VALIDATION_FAILED unknownField", not unknown["ok"] and unknown["error"]["details"]["issues"][0]["code"] == "unknownField", unknown)

    # 3. a coarse fix goes to the teacher, who accepts it with the version they saw (§5.8)
    dev = student(4)
    coarse = dev.data("checkin:submit", {"sessionId": sid, "location": fix(ROOM["lat"], ROOM["lon"], 600), "code": fresh})
    check("a fix coarser than 500 m: pending GEOFENCE_IMPRECISE", (coarse["status"], coarse["reason"]) == ("pending", "GEOFENCE_IMPRECISE"), coarse)
    dev_id = dev.account.user["id"]
    wait_for("the pending entry on the teacher's roster", lambda: roster.entries[dev_id]["status"] == "pending")
    stale_version = staff.ask("checkin:decide", {"sessionId": sid, "studentId": dev_id, "decision": "accept", "expectedVersion": coarse["recordVersion"] - 1})
    check("a decision on a stale version: RECORD_CHANGED", not stale_version["ok"] and stale_version["error"]["code"] == "RECORD_CHANGED", stale_version)
    accepted = staff.data("checkin:decide", {"sessionId": sid, "studentId": dev_id, "decision": "accept", "expectedVersion": roster.entries[dev_id]["recordVersion"]})
    check("the teacher accepts: present ACCEPTED_BY_TEACHER", (accepted["status"], accepted["reason"]) == ("present", "ACCEPTED_BY_TEACHER"), accepted)
    wait_for("checkin:decision to reach the student", lambda: bool(dev.seen("checkin:decision", lambda d: d["status"] == "present")))
    rejected = staff.data("checkin:decide", {"sessionId": sid, "studentId": ben.account.user["id"], "decision": "reject", "note": "not seen in class"})
    check("the teacher rejects: REJECTED_BY_TEACHER", rejected["reason"] == "REJECTED_BY_TEACHER", rejected)
    final = ben.data("checkin:submit", {"sessionId": sid, "location": inside, "code": fresh})
    check("after a teacher's rejection the student cannot retry", final["status"] == "rejected" and final["attemptsLeft"] == 0, final)

    # 4. the link drops after the tap: rejoin, read the record, do not send again (§7 step 5)
    before = ana.data("session:join", {"sessionId": sid})["checkin"]
    ana.on_connect = lambda: ana.events.append(("rejoined", ana.data("session:join", {"sessionId": sid})))
    connects = ana.connects
    ana.sio.eio.ws.close()  # the transport dies under the socket: socket.io reconnects by itself
    wait_for("the student's socket to come back", lambda: ana.connects > connects)
    wait_for("the rejoin after reconnecting", lambda: bool(ana.seen("rejoined")))
    after = ana.seen("rejoined")[-1]["checkin"]
    check("after the reconnection session:join gives the same record", after["recordId"] == before["recordId"] and after["recordVersion"] == before["recordVersion"], after)
    version = roster.version
    resent = ana.data("checkin:submit", {"sessionId": sid, "location": inside, "code": fresh})
    time.sleep(0.5)
    check("a check-in sent again is answered from the record, exactly once", resent["recordVersion"] == before["recordVersion"] and roster.version == version, resent)

    # 5. token renewal on a long connection (§3): auth:expiring, refresh, auth:renew, still in the rooms
    if token_ttl_s <= 60:
        wait_for("auth:expiring on the student's socket", lambda: bool(dev.seen("auth:expiring")), token_ttl_s + 5)
        wait_for("auth:renew's answer", lambda: bool(dev.renewed), 10)
        check("auth:renew answers a later expiresAt", bool(dev.renewed) and not dev.renewed[0].startswith("refused"), dev.renewed)
        time.sleep(max(0, token_ttl_s / 3) + 2)  # past the first token's expiry
        check("the renewed socket is still connected past the first token's end", dev.sio.connected and not dev.seen("auth:expired"))
    else:
        print("skip token renewal: the service's tokens live longer than a minute")

    # 6. closing: everyone settled, the joined student told, then a late check-in refused
    closed = staff.data("session:close", {"sessionId": sid})
    check("close answers counts adding up to total", sum(v for k, v in closed["counts"].items() if k != "total") == closed["counts"]["total"], closed)
    wait_for("session:status closed on the renewed student's socket", lambda: bool(dev.seen("session:status", lambda s: s["status"] == "closed")) or bool(ana.seen("session:status", lambda s: s["status"] == "closed")))
    late = eve.ask("checkin:submit", {"sessionId": sid, "location": inside, "code": fresh})
    check("a check-in after closing: SESSION_CLOSED", not late["ok"] and late["error"]["code"] == "SESSION_CLOSED", late)
    for client in (staff, ana, ben, cleo, dev, eve):
        client.sio.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running service with the demo organisation (default: start one)")
    parser.add_argument("--token-ttl", type=int, default=30, help="its ACCESS_TOKEN_TTL_S, when --url is given")
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    node = None
    data_dir = None
    if args.url:
        base, ttl = args.url.rstrip("/"), args.token_ttl
    else:
        base, node, data_dir = start_node(repo)
        ttl = 30
    started = time.time()
    try:
        run(base, ttl)
    finally:
        if node is not None:
            node.terminate()
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print("the node did not stop within 60 s of SIGTERM: killed")
                node.kill()
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{len(FAILURES)} failed, {time.time() - started:.1f} s")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
