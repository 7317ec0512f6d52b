"""GET /metrics: Prometheus text, counted across every worker."""
import re

from harness import check


def setup(env):
    env.service("notifier", "stop")  # so that events wait in the outbox


def teardown(env):
    env.service("notifier", "start")


def scrape(env):
    st, h, body = env.request("GET", "/metrics")
    check(st == 200 and h["content-type"].startswith("text/plain"), "scrape: %d" % st)
    series = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+(?:\{.*\})?) (\S+)', line)
        check(m, "malformed line %r" % line)
        check(m.group(1) not in series, "series twice: %s" % m.group(1))
        series[m.group(1)] = float(m.group(2))
    return series


def test_metrics_count_requests_mails_and_outcomes(env):
    _, key = env.shared_tenant("metrics")
    before = scrape(env)
    healthz = 'mailproof_http_requests_total{route="/healthz",status="200"}'
    for _ in range(12):  # spread over both workers
        env.request("GET", "/healthz")
    addr = env.new_address()
    vid = env.start(key, addr)[2]["data"]["id"]
    code = env.code_from_mail(addr)
    env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": "0"}, key=key)
    env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": code}, key=key)
    after = scrape(env)

    def delta(name):
        return after.get(name, 0) - before.get(name, 0)

    check(delta(healthz) == 12, "healthz counted once each across workers: %s" % delta(healthz))
    check(delta('mailproof_mails_total{result="sent"}') == 1, "one mail sent")
    check(delta('mailproof_verifications_total{outcome="started"}') == 1, "started")
    check(delta('mailproof_verifications_total{outcome="invalid_code"}') == 1, "invalid code")
    check(delta('mailproof_verifications_total{outcome="verified"}') == 1, "verified")
    check(delta('mailproof_http_requests_total{route="/v1/verifications/email/{id}/verify",'
                'status="422"}') == 1, "422 by route")
    check(after["mailproof_outbox_depth"] >= 2, "outbox depth from the database")
    route = "/v1/verifications/email"
    buckets = sorted((float(re.search(r'le="([^"]+)"', k).group(1).replace("+Inf", "inf")), v)
                     for k, v in after.items()
                     if k.startswith('mailproof_http_request_duration_seconds_bucket{route="%s",'
                                     % route))
    check(len(buckets) == 12, "buckets: %r" % buckets)
    check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "cumulative buckets")
    check(buckets[-1][1] == after['mailproof_http_request_duration_seconds_count{route="%s"}'
                                 % route], "+Inf equals the count")


def test_every_way_of_verifying_is_counted(env):
    """The API, the hosted code page and the magic link each count once."""
    _, key = env.shared_tenant("metrics")
    before = scrape(env)
    addr = env.new_address()
    vid = env.start(key, addr)[2]["data"]["id"]
    env.request("POST", "/v1/verifications/email/%s/verify" % vid,
                body={"code": env.code_from_mail(addr)}, key=key)
    addr = env.new_address()
    page = env.start(key, addr)[2]["data"]["hostedVerifyUrl"].split("/", 3)[3]
    st, _, _ = env.request("POST", "/" + page, raw_body=("code=" + env.code_from_mail(addr)).encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200, "the hosted page: %d" % st)
    addr = env.new_address()
    env.start(key, addr, method="MAGIC_LINK")
    msg = env.wait("the link", lambda: env.mails_to(addr))[-1]
    link = re.search(r"/v1/link/[A-Za-z0-9_-]{43}", msg.get_body(("plain",)).get_content()).group(0)
    st, _, _ = env.request("POST", link, raw_body=b"",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200, "the link: %d" % st)
    after = scrape(env)
    name = 'mailproof_verifications_total{outcome="verified"}'
    check(after.get(name, 0) - before.get(name, 0) == 3, "three verified: %r" % (
        after.get(name, 0) - before.get(name, 0)))


def test_queue_and_health_series(env):
    from harness import Notifier
    _, key = env.shared_tenant("metrics")
    env.start(key)  # an event waits: the notifier is stopped
    before = scrape(env)
    check(before["mailproof_database_up"] == 1, "the database answered")
    check(before['mailproof_outbox_events{state="pending"}'] >= 1 and
          before["mailproof_outbox_depth"] == before['mailproof_outbox_events{state="pending"}'],
          "events waiting: %r" % before)
    check(before["mailproof_outbox_oldest_pending_seconds"] >= 0, "the oldest's age")
    check('mailproof_mail_queue{state="pending"}' in before and
          "mailproof_mail_queue_oldest_seconds" in before, "the mail queue")
    dead = env.psql("UPDATE outbox SET state = 'dead' WHERE id = (SELECT max(id) FROM outbox)"
                    " RETURNING id")
    check(len(dead) == 1, "one event given up")
    after = scrape(env)
    check(after['mailproof_outbox_events{state="dead"}'] ==
          before['mailproof_outbox_events{state="dead"}'] + 1, "dead events counted")
    env.psql("UPDATE notifier_sleep SET seen_at = now() - interval '1 hour'")
    check(scrape(env)["mailproof_notifier_last_seen_seconds"] >= 3600, "an hour without one")
    check(Notifier(env, args=["--once"]).wait() == 0, "a notifier sweeps")
    check(scrape(env)["mailproof_notifier_last_seen_seconds"] < 60, "seen just now")
