"""`spikeline ember` on the small substrate (examples/ember/small.toml):
actions come after learning and never without it, the session's tables
agree with its action lines, bad input lines are refused by line with the
substrate untouched, a resumed session equals an uninterrupted one bit for
bit, and the reasoning command's answers and failures are recorded."""

import json
import os
import stat
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (TempDir, check, check_equal, spikeline, expect_exit, expect_in, write,  # noqa: E402
                     all_spikes, status_of, EX_OK, EX_DATAERR, EX_CONFIG, EX_NOINPUT)

import h5py  # noqa: E402

SMALL = clitest.example("ember/small.toml")

# A conversation in which one pair of concepts comes back every exchange:
# the same question and answer each time (their volleys are identical, so
# their assemblies overlap as far as the substrate's own state allows).
PAIR = {"user": "how do I brew green tea", "assistant": "use water at 80 degrees for two minutes"}


def conversation(n, **extra):
    return "".join(json.dumps(dict(PAIR, **extra)) + "\n" for _ in range(n))


def ember(d, lines, *args, name="conv.jsonl", output="out.h5"):
    path = write(os.path.join(d, name), lines)
    return spikeline(["ember", SMALL, "-i", path, "-o", os.path.join(d, output)] + list(args),
                     cwd=d)


def actions_of(r):
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def table(path, name):
    with h5py.File(path, "r") as f:
        g = f["ember"][name]
        return {k: g[k][()] for k in g}


def test_actions_come_after_learning():
    with TempDir() as d:
        r = ember(d, conversation(10))
        expect_exit(r, EX_OK)
        acts = actions_of(r)
        check(len(acts) >= 1, "no action in 10 rewarded exchanges\n" + r.describe())
        first = acts[0]
        # From zero lateral weights the first exchange cannot reignite
        # anything: learning must come first.
        check(first["exchange"] >= 2, "an action after exchange %d" % first["exchange"])
        expect_in(r.stderr, "spikeline ember: 10 exchanges, %d actions (the first after exchange %d)"
                  % (len(acts), first["exchange"]), r=r)
        texts = {a["text"] for a in first["associations"]}
        check(texts <= {PAIR["user"], PAIR["assistant"]}, "associations %s" % texts)
        check(first["associations"][0]["strength"] >= first["associations"][-1]["strength"],
              "associations not strongest first")
        check_equal(first["context"], PAIR, "context")
        # The output file's tables say the same as the action lines.
        out = os.path.join(d, "out.h5")
        check_equal(status_of(out), "complete", "status")
        t = table(out, "actions")
        check_equal(list(t["action"]), [float(a["action"]) for a in acts], "actions table")
        check_equal(list(t["time_ms"]), [a["time_ms"] for a in acts], "action times")
        check_equal(list(t["message"]), [float(a["trigger"]["message"]) for a in acts], "triggers")
        ex = table(out, "exchanges")
        check_equal(list(ex["exchange"]), [float(k) for k in range(1, 11)], "exchanges table")
        check_equal(list(ex["line"]), [float(k) for k in range(1, 11)], "lines")
        check_equal(list(ex["user_ms"]), [1.0 + 1200 * k for k in range(10)], "presentation times")
        check(min(ex["user_assembly"]) > 0, "a message drove no concept neuron")
        # The lateral weights, snapshot once per exchange, grow with every
        # rewarded exchange; the dopamine level jumps by the reward (1)
        # after each assistant window and decays (tau 200 ms) in between.
        with h5py.File(out, "r") as f:
            w = f["weights/lateral/data"][()]
            da_t = f["neuromodulators/dopamine/time"][()]
            da = f["neuromodulators/dopamine/data"][()]
        check_equal(w.shape[0], 10, "weight snapshots")
        means = w.mean(axis=1)
        check(np.all(np.diff(means) > 0) and means[0] > 0, "lateral weights do not grow: %s" % means)
        # The pulse at 201 ms (the step after the assistant's window), seen
        # by the sample at 210 ms.
        k = int(np.searchsorted(da_t, 210.0))
        check(abs(da[k] - np.exp(-9.0 / 200.0)) < 1e-9, "dopamine at 210 ms: %r" % da[k])
        check(abs(da[int(np.searchsorted(da_t, 200.0))]) == 0.0, "dopamine before the first reward")
        assoc = table(out, "associations")
        check_equal(len(assoc["action"]), sum(len(a["associations"]) for a in acts),
                    "associations table")


def test_no_action_without_reward_or_plasticity():
    with TempDir() as d:
        for name, args in [("reward 0", ["--set", "ember.reward=0"]),
                           ("plasticity off", ["--set", "projection.lateral.plasticity.learning_rate=1e-12"])]:
            r = ember(d, conversation(10), *args, output=name.replace(" ", "_") + ".h5")
            expect_exit(r, EX_OK)
            check_equal(r.stdout, "", "actions with " + name)
            expect_in(r.stderr, "10 exchanges, 0 actions\n", r=r)
            with h5py.File(os.path.join(d, name.replace(" ", "_") + ".h5"), "r") as f:
                w = f["weights/lateral/data"][()]
            if name == "reward 0":
                check(not w.any(), "lateral weights changed without reward")
        # Reward 0 on the line itself does the same as the config's.
        r = ember(d, conversation(10, reward=0), output="line_reward.h5")
        check_equal(r.stdout, "", "actions with reward 0 on every line")


def test_bad_lines_are_refused_and_leave_the_substrate_untouched():
    good = conversation(3)
    bad = [
        '{"user": "a", "assistant": \n',
        '{"user": "a", "assistant": "b", "rewrad": 1}\n',
        '{"user": "", "assistant": "b"}\n',
        '{"user_embedding": [1, 2, 3], "assistant": "b"}\n',
        '{"user_embedding": [1, 1e999], "assistant": "b"}\n',
        '{"user": "a", "assistant": "b", "reward": 500}\n',
        '"just a string"\n',
    ]
    mixed = good.splitlines(True)
    lines = [mixed[0]] + bad[:4] + [mixed[1]] + bad[4:] + [mixed[2]]
    with TempDir() as d:
        clean = ember(d, good, output="clean.h5")
        expect_exit(clean, EX_OK)
        r = ember(d, "".join(lines), output="mixed.h5")
        expect_exit(r, EX_DATAERR)
        path = os.path.join(d, "conv.jsonl")
        for n, fragment in [(2, "not JSON (parse error at line 1, column 28"),
                            (3, 'unknown field "rewrad" (did you mean \'reward\'?)'),
                            (4, '"user" is empty'),
                            (5, "the user embedding has 3 entries; this session's have 256"),
                            (7, "a number out of range (number overflow parsing '1e999')"),
                            (8, '"reward" = 500 is out of range: valid is -100 to 100'),
                            (9, "an exchange is a JSON object; got a string")]:
            expect_in(r.stderr, "spikeline ember: refused: %s line %d: %s" % (path, n, fragment), r=r)
        expect_in(r.stderr, "3 exchanges", r=r)
        expect_in(r.stderr, "7 input line(s) refused", r=r)
        # The refused lines changed nothing: the spikes are those of the
        # good lines alone, and the file is complete.
        check_equal(status_of(os.path.join(d, "mixed.h5")), "complete", "status")
        a = all_spikes(os.path.join(d, "clean.h5"))
        b = all_spikes(os.path.join(d, "mixed.h5"))
        for pop in a:
            check(np.array_equal(a[pop][0], b[pop][0]) and np.array_equal(a[pop][1], b[pop][1]),
                  "spikes of %s differ after refused lines" % pop)


def test_resumed_session_equals_uninterrupted():
    n, cut = 8, 4
    with TempDir() as d:
        whole = ember(d, conversation(n), "--checkpoint", os.path.join(d, "whole.ckpt"),
                      output="whole.h5")
        expect_exit(whole, EX_OK)
        first = ember(d, conversation(cut), "--checkpoint", os.path.join(d, "part.ckpt"),
                      name="first.jsonl", output="part.h5")
        expect_exit(first, EX_OK)
        # Another substrate (another seed draws other synapses) is refused.
        other = ember(d, conversation(n), "--resume", os.path.join(d, "part.ckpt"),
                      "--set", "simulation.seed=99", name="all.jsonl", output="part.h5")
        expect_exit(other, EX_DATAERR)
        expect_in(other.stderr, "the network built from its config is not the one it was written from",
                  r=other)
        # The same conversation file again: --skip passes over what the
        # checkpointed session already had.
        rest = ember(d, conversation(n), "--resume", os.path.join(d, "part.ckpt"),
                     "--skip", str(cut), name="all.jsonl", output="part.h5")
        expect_exit(rest, EX_OK)
        expect_in(rest.stderr, "spikeline ember: %d exchanges" % n, r=rest)
        check_equal(actions_of(first) + actions_of(rest), actions_of(whole), "actions")
        a = all_spikes(os.path.join(d, "whole.h5"))
        b = all_spikes(os.path.join(d, "part.h5"))
        for pop in a:
            check(np.array_equal(a[pop][0], b[pop][0]) and np.array_equal(a[pop][1], b[pop][1]),
                  "spikes of %s differ after resume" % pop)
        for name in ["exchanges", "actions", "associations"]:
            ta = table(os.path.join(d, "whole.h5"), name)
            tb = table(os.path.join(d, "part.h5"), name)
            for k in ta:
                check(np.array_equal(ta[k], tb[k]), "table %s column %s differs" % (name, k))
        with h5py.File(os.path.join(d, "whole.h5"), "r") as fa, \
                h5py.File(os.path.join(d, "part.h5"), "r") as fb:
            wa = fa["edges/lateral/0/syn_weight"][()]
            wb = fb["edges/lateral/0/syn_weight"][()]
            check(wa.max() > 0, "no lateral weight learned")
            check(np.array_equal(wa, wb), "final lateral weights differ after resume")


CONVERSATION = clitest.example("ember/conversation.jsonl")


def first_action(d, seed, conv=CONVERSATION, *args):
    r = spikeline(["ember", SMALL, "-i", conv, "-o", os.path.join(d, "s%d.h5" % seed),
                   "--set", "simulation.seed=%d" % seed] + list(args), cwd=d)
    expect_exit(r, EX_OK)
    acts = actions_of(r)
    return acts[0]["exchange"] if acts else None


def test_first_action_on_the_synthetic_conversation():
    """The small substrate's version of EMBER's figure: from zero lateral
    weights, two alternating topics in paraphrases, the first action comes
    at exchange 7 +/- 2 in at least 4 of 5 seeds (the paper: 7); with the
    rewards 0, or plasticity off, never."""
    with TempDir() as d:
        # The file is what its generator writes (it cannot drift unseen).
        gen = subprocess.run([sys.executable, clitest.example("ember/make_conversation.py")],
                             stdout=subprocess.PIPE, text=True, check=True)
        with open(CONVERSATION) as f:
            check_equal(f.read(), gen.stdout, "conversation.jsonl against its generator")
        firsts = [first_action(d, seed) for seed in range(1, 6)]
        inside = [f for f in firsts if f is not None and 5 <= f <= 9]
        check(len(inside) >= 4, "first actions at exchanges %s" % firsts)
        unrewarded = write(os.path.join(d, "r0.jsonl"),
                           gen.stdout.replace('"reward": 1}', '"reward": 0}'))
        for seed in (1, 2):
            check_equal(first_action(d, seed, unrewarded), None, "an action without reward")
            check_equal(first_action(d, seed, CONVERSATION, "--set",
                                     "projection.lateral.plasticity.learning_rate=1e-12"),
                        None, "an action without plasticity")


def test_reasoning_command_answers_and_failures():
    with TempDir() as d:
        script = write(os.path.join(d, "llm.sh"),
                       "#!/bin/sh\ncat > \"$(dirname \"$0\")/request.json\"\n"
                       "echo '{\"reply\": \"shall I put the kettle on?\"}'\n")
        os.chmod(script, os.stat(script).st_mode | stat.S_IEXEC)
        r = ember(d, conversation(10), "--set", 'ember.reasoning.command="%s"' % script)
        expect_exit(r, EX_OK)
        acts = actions_of(r)
        check(len(acts) >= 1, "no action\n" + r.describe())
        check_equal(acts[0]["answer"], {"reply": "shall I put the kettle on?"}, "answer")
        with open(os.path.join(d, "request.json")) as f:
            request = json.loads(f.read())
        check_equal(request["action"], acts[-1]["action"], "the request is the action")
        check("answer" not in request, "the request carries an answer")
        check_equal(list(table(os.path.join(d, "out.h5"), "actions")["answered"]),
                    [1.0] * len(acts), "answered column")
        # A failing command: recorded beside the action, said on stderr,
        # and the session goes on with the same actions.
        failing = ember(d, conversation(10), "--set",
                        'ember.reasoning.command="echo overloaded >&2; exit 3"', output="fail.h5")
        expect_exit(failing, EX_OK)
        facts = actions_of(failing)
        check_equal([a["time_ms"] for a in facts], [a["time_ms"] for a in acts], "action times")
        check("exit status 3" in facts[0]["reasoning_error"] and
              "overloaded" in facts[0]["reasoning_error"], "error %r" % facts[0])
        expect_in(failing.stderr, "spikeline ember: action 1 at %g ms:" % acts[0]["time_ms"], r=failing)


def test_config_and_input_errors():
    with TempDir() as d:
        r = spikeline(["ember", clitest.example("coba.toml"), "-i", "/dev/null"], cwd=d)
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "no [ember] table: `spikeline ember` needs one", r=r)
        r = ember(d, conversation(1), "--set", "ember.encoder.kk=3")
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "[ember.encoder]: unknown key 'kk' (did you mean 'k'?)", r=r)
        r = ember(d, conversation(1), "--set", 'ember.concept="concepts"')
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "[ember] concept = 'concepts': no such population", r=r)
        r = ember(d, conversation(1), "--set", "ember.encoder.window=100.5")
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "[ember.encoder] parameter window = 100.5 ms is not a whole number of steps", r=r)
        r = spikeline(["ember", SMALL, "-i", "/dev/null", "--set", 'ember.modulator="DA"'], cwd=d)
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "[ember] modulator = 'DA': no such [[neuromodulator]]; the config has: "
                  "dopamine", r=r)
        # validate checks [ember] as the session reads it.
        r = spikeline(["validate", SMALL, "--set", "ember.trigger.threshold=2"], cwd=d)
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "[ember.trigger] parameter threshold = 2 is invalid: valid is 1e-06 to 1", r=r)
        r = spikeline(["validate", SMALL], cwd=d)
        expect_exit(r, EX_OK)
        r = spikeline(["ember", SMALL, "-i", os.path.join(d, "missing.jsonl")], cwd=d)
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "missing.jsonl: cannot be read", r=r)


def test_ctrl_c_between_exchanges_ends_the_session_with_its_checkpoint():
    import signal
    import time
    with TempDir() as d:
        ckpt = os.path.join(d, "s.ckpt")
        p = subprocess.Popen([clitest.BINARY, "ember", SMALL, "-o", os.path.join(d, "o.h5"),
                              "--checkpoint", ckpt], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=d)
        p.stdin.write(conversation(1))
        p.stdin.flush()
        # The checkpoint appears once the exchange is over: the session
        # then waits for its next line, with stdin still open.
        deadline = time.monotonic() + 60
        while not os.path.exists(ckpt) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        check(os.path.exists(ckpt), "no checkpoint after the first exchange")
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            raise clitest.Failure("Ctrl-C while waiting for input did not end the session")
        check_equal(p.returncode, 0, "exit\n" + err)
        expect_in(err, "stopped by signal 2 between exchanges")
        expect_in(err, "spikeline ember: 1 exchanges")
        check_equal(status_of(os.path.join(d, "o.h5")), "complete", "status")
        # It goes on from there.
        r = spikeline(["ember", SMALL, "--resume", ckpt, "-i", write(os.path.join(d, "more.jsonl"),
                       conversation(1)), "-o", os.path.join(d, "o.h5")], cwd=d)
        expect_exit(r, EX_OK)
        expect_in(r.stderr, "spikeline ember: 2 exchanges", r=r)
        check_equal(list(table(os.path.join(d, "o.h5"), "exchanges")["exchange"]), [1.0, 2.0],
                    "exchanges after resume")


def test_embeddings_from_a_table_of_the_users_model():
    """Embeddings computed ahead of time by the user's own model, as JSON
    lines or an HDF5 table, with the n-gram embedder off: both give the same
    session, and a text the table lacks is refused by line."""
    rng = np.random.default_rng(3)
    texts = [PAIR["user"], PAIR["assistant"]]
    vectors = rng.normal(size=(2, 48))
    with TempDir() as d:
        jsonl = write(os.path.join(d, "emb.jsonl"), "".join(
            json.dumps({"text": t, "embedding": list(v)}) + "\n" for t, v in zip(texts, vectors)))
        with h5py.File(os.path.join(d, "emb.h5"), "w") as f:
            f["embeddings"] = vectors
            f["texts"] = texts
        lines = conversation(3) + json.dumps({"user": "not in the table", "assistant": PAIR["assistant"]}) + "\n"
        runs = {}
        for name in ["emb.jsonl", "emb.h5"]:
            r = ember(d, lines, "--set", 'ember.embedder.kind="none"', "--set",
                      'ember.embedder.embeddings="%s"' % os.path.join(d, name),
                      output=name + ".out.h5")
            expect_exit(r, EX_DATAERR)
            expect_in(r.stderr, 'line 4: the user message "not in the table" has no embedding', r=r)
            expect_in(r.stderr, "3 exchanges", r=r)
            runs[name] = all_spikes(os.path.join(d, name + ".out.h5"))
        for pop in runs["emb.jsonl"]:
            check(np.array_equal(runs["emb.jsonl"][pop][1], runs["emb.h5"][pop][1]),
                  "a JSON-lines table and an HDF5 table of the same embeddings differ")
        with h5py.File(os.path.join(d, "notexts.h5"), "w") as f:
            f["embeddings"] = vectors
        r = ember(d, lines, "--set", 'ember.embedder.embeddings="%s"' % os.path.join(d, "notexts.h5"))
        expect_exit(r, 65)
        expect_in(r.stderr, "notexts.h5: the file has /embeddings but no /texts", r=r)


def small_with_volley():
    """The small substrate's config, and a [[clamp]] of the user message's
    volley at time 0 with the session's encoder and embedder."""
    with open(SMALL) as f:
        base = f.read()
    volley = ('[[clamp]]\nname = "tea"\npopulation = "sensory_e"\n'
              'volley = { text = "%s", time = 0.0, encoder = { k = 16, neurons_per_dim = 8 }, '
              'embedder = { dim = 256 } }\n' % PAIR["user"])
    return base, volley


def test_a_run_config_clamps_the_volley_the_session_presents():
    """The encoder is a piece a run config can use: a [[clamp]] with a
    volley drives the sensory layer with exactly the spikes the session
    clamps for the same text in a window starting at the same time."""
    base, volley = small_with_volley()
    with TempDir() as d:
        cfg = write(os.path.join(d, "run.toml"), base + "\n" + volley)
        r = spikeline(["run", cfg, "-o", os.path.join(d, "run.h5"), "-d", "150"], cwd=d)
        expect_exit(r, EX_OK)
        s = ember(d, conversation(1), output="session.h5")
        expect_exit(s, EX_OK)
        a = all_spikes(os.path.join(d, "run.h5"))["sensory_e"]
        b = all_spikes(os.path.join(d, "session.h5"))["sensory_e"]
        ka, kb = a[0] <= 100.0, b[0] <= 100.0
        check(ka.sum() > 100, "the volley drove %d spikes" % ka.sum())
        check(np.array_equal(a[0][ka], b[0][kb]) and np.array_equal(a[1][ka], b[1][kb]),
              "the run's volley differs from the session's")
        for bad, message in [
            ("volley = { text = \"a\", embedding = [1.0, 2.0], time = 0.0 }",
             "clamp 'v' volley needs text = \"...\" (embedded by the n-gram embedder) or embedding = [...], one of the two"),
            ("volley = { text = \"a\", time = 0.5 }", "clamp 'v' volley.time"),
            ("volley = { text = \"a\", time = 0.0, encoder = { kk = 3 } }",
             "clamp 'v' volley encoder: unknown key 'kk' (did you mean 'k'?)"),
            ("volley = { embedding = [1.0, 2.0, 3.0], time = 0.0 }",
             "clamp 'v' volley: encoder.k = 64 exceeds the embedding's 3 dimensions: k must be in [1, 3]"),
            ("volley = { text = \"a\", time = 0.0 }\nparams = { spike_times = [1.0] }",
             "clamp 'v' has both params and a volley"),
        ]:
            cfg = write(os.path.join(d, "bad.toml"), base + '\n[[clamp]]\nname = "v"\npopulation = "sensory_e"\n' + bad + "\n")
            r = spikeline(["validate", cfg], cwd=d)
            expect_exit(r, EX_CONFIG)
            expect_in(r.stderr, message, r=r)


def detector_ignitions(times, ids, assemblies, tau, threshold, dt=1.0):
    """The detector's ignitions recomputed from the spikes (the closed form
    of docs/ember.md, spike by spike in id order within a step)."""
    out = []
    for m, members in enumerate(assemblies):
        member = set(members)
        v, last, armed = 0.0, 0, True
        for t in sorted(set(times[np.isin(ids, list(member))])):
            step = int(round(t / dt))
            v *= np.exp(-(step - last) * dt / tau)
            last = step
            if not armed and v < threshold / 2:
                armed = True
            for _ in sorted(ids[(times == t) & np.isin(ids, list(member))]):
                v += 1.0 / len(members)
                if armed and v >= threshold:
                    out.append((step * dt, m, v))
                    armed = False
    return sorted(out)


def test_a_run_config_detects_assemblies():
    """The trigger's detector is a piece a run config can use: [[detector]]
    writes each ignition to /detectors/<name>, as a recomputation from the
    run's own spikes says, and a resumed run writes the same rows."""
    base, volley = small_with_volley()
    with TempDir() as d:
        cfg = write(os.path.join(d, "run.toml"), base + "\n" + volley)
        expect_exit(spikeline(["run", cfg, "-o", os.path.join(d, "a.h5"), "-d", "150"], cwd=d), EX_OK)
        times, ids = all_spikes(os.path.join(d, "a.h5"))["sensory_e"]
        driven = sorted(set(ids[times <= 100.0].tolist()))
        quiet = [n for n in range(2000) if n not in set(driven)][:50]
        half = driven[: len(driven) // 2]
        assemblies = [driven, half, quiet]
        det = ('[[detector]]\nname = "sensory"\npopulation = "sensory_e"\ntau = 20.0\n'
               'threshold = 0.3\nassemblies = %s\n' % json.dumps(assemblies))
        cfg = write(os.path.join(d, "det.toml"), base + "\n" + volley + "\n" + det)
        expect_exit(spikeline(["run", cfg, "-o", os.path.join(d, "b.h5"), "-d", "150"], cwd=d), EX_OK)
        with h5py.File(os.path.join(d, "b.h5"), "r") as f:
            g = f["detectors/sensory"]
            rows = sorted(zip(g["time_ms"][()], g["assembly"][()].astype(int), g["level"][()]))
        expected = detector_ignitions(times, ids, assemblies, 20.0, 0.3)
        check(len(expected) >= 2, "the volley ignited %d assemblies" % len(expected))
        check_equal([(r[0], r[1]) for r in rows], [(e[0], e[1]) for e in expected], "ignitions")
        check(all(abs(r[2] - e[2]) < 1e-12 for r, e in zip(rows, expected)), "levels")
        check(2 not in [r[1] for r in rows], "the quiet assembly ignited")
        # Cut at 50 ms and resumed: the same rows.
        ckpt = os.path.join(d, "c.ckpt")
        expect_exit(spikeline(["run", cfg, "-o", os.path.join(d, "c.h5"), "-d", "50",
                               "--checkpoint", ckpt], cwd=d), EX_OK)
        expect_exit(spikeline(["resume", ckpt, "--duration", "150"], cwd=d), EX_OK)
        with h5py.File(os.path.join(d, "c.h5"), "r") as f:
            g = f["detectors/sensory"]
            resumed = sorted(zip(g["time_ms"][()], g["assembly"][()].astype(int), g["level"][()]))
        check_equal(resumed, rows, "ignitions after resume")
        for bad, message in [
            ('population = "sensory_e"\nassemblies = [[0, 2000]]', "2000 is not a node id of 'sensory_e' (0 to 1999)"),
            ('population = "sensory"\nassemblies = [[0]]', "detector 'x': no population 'sensory'"),
            ('population = "sensory_e"\nassemblies = [[0]]\nthreshold = 2.0',
             "detector 'x' threshold = 2 is invalid: it is a fraction of an assembly, in (0, 1]"),
            ('population = "sensory_e"', "detector 'x' needs assemblies = [[node ids], ...]"),
        ]:
            cfg = write(os.path.join(d, "bad.toml"), base + '\n[[detector]]\nname = "x"\n' + bad + "\n")
            r = spikeline(["validate", cfg], cwd=d)
            expect_exit(r, EX_CONFIG)
            expect_in(r.stderr, message, r=r)


def test_stdin_and_idle():
    with TempDir() as d:
        p = subprocess.run([clitest.BINARY, "ember", SMALL, "-o", os.path.join(d, "o.h5"),
                            "--idle", "0.001"], input=conversation(2), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d, timeout=120)
        check_equal(p.returncode, 0, "exit\n" + p.stderr)
        # 2 exchanges of 1.2 s, then 3.6 s of idle.
        expect_in(p.stderr, "complete after 6000.0 ms simulated")


clitest.main(globals())
