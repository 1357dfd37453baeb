"""The bad-input corpus: every way of getting the command line or the config
wrong must end with the right exit code, a message that names the problem,
no crash, and no output file touched.

Config cases live in tests/cli/bad_configs/NAME.toml, one file per case.
The first line of each file states the expectation:

    # expect: CODE "fragment" "another fragment" ...

(CODE is the exit code; each quoted fragment must appear on stderr), and an
optional line

    # args: --set key=value ...

gives extra command-line arguments. Adding a case is adding a file. For each
file the test runs

    spikeline run FILE -o TMP/new.h5 [args]       -> CODE, fragments, new.h5 not created
    spikeline run FILE -o TMP/existing.h5 [args]  -> CODE, existing.h5 byte-identical
    spikeline validate FILE [args]                -> CODE, fragments (validate claims to
                                                     check everything run checks before
                                                     simulating)

Command-line (usage) errors are the test_usage_* functions below.
"""

import os
import re
import resource
import shlex
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CANTCREAT, EX_CONFIG, EX_DATAERR, EX_NOINPUT, EX_USAGE,  # noqa: E402
                     Failure, TempDir, check, expect_exit, expect_in, read_bytes, run_ok,
                     spikeline, write)

BAD_DIR = os.path.join(clitest.CLI_DIR, "bad_configs")

# Every error must be reported quickly, from checks and estimates, never by
# trying: no case may take longer than this or use more address space than
# MEMORY_LIMIT (a network that cannot fit must be refused, not attempted).
MAX_SECONDS = 10
MEMORY_LIMIT = 4 << 30


def limit_memory():
    # Under AddressSanitizer (scripts/sanitize.sh) the shadow memory needs
    # terabytes of address space; there the sanitizer's own allocation limit
    # (ASAN_OPTIONS max_allocation_size_mb) stands in for RLIMIT_AS.
    if os.environ.get("SPIKELINE_SANITIZER") != "address":
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


GOOD_CONFIG = clitest.SMALL_NETWORK


def make_existing_output(tmp):
    """A real output file from a successful run, to be left untouched by
    every later failing run that names it."""
    cfg = write(os.path.join(tmp, "good.toml"), GOOD_CONFIG)
    out = os.path.join(tmp, "existing.h5")
    run_ok(["run", cfg, "-o", out, "-q"], cwd=tmp)
    check(os.path.getsize(out) > 0, "the good run wrote an empty file")
    return out


# --------------------------------------------------------------------------
# Config corpus
# --------------------------------------------------------------------------

EXPECT_RE = re.compile(r'^#\s*expect:\s*(\d+)((?:\s+"[^"]*")+)\s*$')


def parse_case(path):
    """(exit code, [fragments], [extra args]) from the file's header."""
    with open(path) as f:
        lines = f.read().split("\n")
    m = EXPECT_RE.match(lines[0])
    if not m:
        raise Failure('%s: the first line must be # expect: CODE "fragment" ...' % path)
    code = int(m.group(1))
    fragments = re.findall(r'"([^"]*)"', m.group(2))
    args = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        if line.startswith("# args:"):
            args += shlex.split(line[len("# args:"):])
    return code, fragments, args


def check_error_result(r, code, fragments):
    expect_exit(r, code)
    check(r.stderr.startswith("spikeline: error: "),
          "stderr does not start with 'spikeline: error: '\n" + r.describe())
    check("internal error" not in r.stderr, "an internal error\n" + r.describe())
    for frag in fragments:
        expect_in(r.stderr, frag, r=r)
    check(r.seconds < MAX_SECONDS, "took %.1f s (limit %d s)" % (r.seconds, MAX_SECONDS))


def config_case(path):
    """The run test of one corpus file: exit code, message, no file created,
    an existing output file left byte-identical."""
    def test():
        code, fragments, extra = parse_case(path)
        with TempDir() as tmp:
            existing = make_existing_output(tmp)
            before = read_bytes(existing)
            new = os.path.join(tmp, "new.h5")

            r = spikeline(["run", path, "-o", new, "-q"] + extra, cwd=tmp,
                          timeout=MAX_SECONDS * 3, preexec_fn=limit_memory)
            check_error_result(r, code, fragments)
            check(not os.path.exists(new), "run created %s although it failed" % new)

            r = spikeline(["run", path, "-o", existing, "-q"] + extra, cwd=tmp,
                          timeout=MAX_SECONDS * 3, preexec_fn=limit_memory)
            check_error_result(r, code, fragments)
            check(read_bytes(existing) == before,
                  "a failing run given -o existing.h5 changed that file")
            leftovers = sorted(set(os.listdir(tmp)) - {"good.toml", "existing.h5"})
            check(not leftovers, "files left behind: %s" % leftovers)
    return test


def validate_case(path):
    """The validate test of one corpus file: `spikeline validate` promises to
    check "syntax, keys, models, parameters, ranges, memory" without
    simulating, so it must reject what run rejects, with the same code."""
    def test():
        code, fragments, extra = parse_case(path)
        with TempDir() as tmp:
            r = spikeline(["validate", path] + extra, cwd=tmp, timeout=MAX_SECONDS * 3,
                          preexec_fn=limit_memory)
            if r.returncode == 0:
                raise Failure("validate accepted a config that run rejects with exit %d\n%s"
                              % (code, r.describe()))
            check_error_result(r, code, fragments)
            check(not os.listdir(tmp), "validate wrote files: %s" % os.listdir(tmp))
    return test


def corpus():
    tests = []
    for f in sorted(f for f in os.listdir(BAD_DIR) if f.endswith(".toml")):
        name, path = os.path.splitext(f)[0], os.path.join(BAD_DIR, f)
        tests.append(("test_config_" + name, config_case(path)))
        tests.append(("test_validate_" + name, validate_case(path)))
    return tests


def test_corpus_is_complete():
    """The corpus holds the cases the test plan requires (and each parses)."""
    required = [
        "syntax_error", "unknown_top_level_key", "unknown_simulation_key", "unknown_model",
        "unknown_param", "wrong_type_size", "missing_size", "missing_weight", "negative_tau_m",
        "nan_param", "inf_param", "inf_duration", "reset_above_threshold",
        "delay_below_one_step", "delay_off_grid", "negative_delay", "dt_zero", "size_zero",
        "record_node_out_of_range", "unknown_source_population", "probability_above_one",
        "population_single_table", "unknown_record_variable", "unknown_rule",
        "spike_time_off_grid", "absurd_size", "explicit_edges_out_of_range", "set_bad_key",
    ]
    have = {os.path.splitext(f)[0] for f in os.listdir(BAD_DIR) if f.endswith(".toml")}
    missing = [n for n in required if n not in have]
    check(not missing, "missing cases: %s" % missing)
    for n in sorted(have):
        code, fragments, _ = parse_case(os.path.join(BAD_DIR, n + ".toml"))
        check(code in (EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_CONFIG), "%s: odd code %d" % (n, code))
        check(fragments, "%s: no message fragment" % n)


# --------------------------------------------------------------------------
# Command-line errors
# --------------------------------------------------------------------------

def usage_case(args, code, fragments, use_good_config=False):
    """Runs spikeline with `args` ({cfg} and {out} are substituted) and checks
    the exit code, the fragments and that no output file appeared."""
    def test():
        with TempDir() as tmp:
            cfg = write(os.path.join(tmp, "good.toml"), GOOD_CONFIG)
            out = os.path.join(tmp, "out.h5")
            full = [a.format(cfg=cfg, out=out, tmp=tmp) for a in args]
            r = spikeline(full, cwd=tmp, timeout=MAX_SECONDS * 3, preexec_fn=limit_memory)
            check_error_result(r, code, [f.format(cfg=cfg, out=out, tmp=tmp) for f in fragments])
            check(not os.path.exists(out), "%s was created" % out)
            check(sorted(os.listdir(tmp)) == ["good.toml"],
                  "files appeared: %s" % sorted(os.listdir(tmp)))
    return test


def test_usage_no_command():
    with TempDir() as tmp:
        r = spikeline([], cwd=tmp)
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "usage: spikeline <command>", r=r)
        for cmd in ("run", "validate", "models", "inspect"):
            expect_in(r.stderr, cmd, r=r)


test_usage_unknown_command = usage_case(
    ["rnu", "{cfg}"], EX_USAGE, ["unknown command 'rnu'", "did you mean 'run'?"])
test_usage_unknown_command_far = usage_case(
    ["simulate", "{cfg}"], EX_USAGE, ["unknown command 'simulate'", "run, resume, train, ember, validate, models, inspect"])
test_usage_run_without_config = usage_case(
    ["run", "-o", "{out}"], EX_USAGE, ["CONFIG file is required"])
test_usage_validate_without_config = usage_case(
    ["validate"], EX_USAGE, ["CONFIG file is required"])
test_usage_inspect_without_file = usage_case(
    ["inspect"], EX_USAGE, ["FILE is required"])
test_usage_unknown_option = usage_case(
    ["run", "{cfg}", "-o", "{out}", "--bogus"], EX_USAGE, ["'--bogus'"])
test_usage_bad_option_value = usage_case(
    ["run", "{cfg}", "-o", "{out}", "--threads", "abc"], EX_USAGE,
    ["--threads: abc is not valid: the number of threads is an integer in [1, 1024]"])

# Integer options are read as text with their range: `--seed -1` once
# wrapped to 2^64 - 1 and was reported as "simulation.seed must be a whole
# number, got a string" (exit 78).
SEED_RANGE = "a seed is an integer in [0, 9223372036854775807]"
THREADS_RANGE = "the number of threads is an integer in [1, 1024]"
RUN = ["run", "{cfg}", "-o", "{out}"]
TRAIN = ["train", "{cfg}", "-o", "{out}"]
for _name, _args, _fragment in [
        ("seed_negative", RUN + ["--seed", "-1"], "--seed: -1 is not valid: " + SEED_RANGE),
        ("seed_beyond_int64", RUN + ["-s", "9223372036854775808"],
         "--seed: 9223372036854775808 is not valid: " + SEED_RANGE),
        ("seed_beyond_uint64", RUN + ["--seed=99999999999999999999"],
         "--seed: 99999999999999999999 is not valid: " + SEED_RANGE),
        ("seed_not_a_number", RUN + ["--seed", "1e3"], "--seed: 1e3 is not valid"),
        ("threads_negative", RUN + ["--threads", "-1"], "--threads: -1 is not valid: " + THREADS_RANGE),
        ("threads_zero", RUN + ["-t", "0"], "--threads: 0 is not valid"),
        ("threads_too_many", RUN + ["--threads", "1025"], "--threads: 1025 is not valid"),
        ("threads_fraction", RUN + ["--threads", "1.5"], "--threads: 1.5 is not valid"),
        ("train_threads_negative", TRAIN + ["--threads", "-2"],
         "--threads: -2 is not valid: " + THREADS_RANGE),
        ("train_steps_negative", TRAIN + ["--steps", "-1"],
         "--steps: -1 is not valid: the number of training steps is an integer in [0, 1000000000]"),
        ("train_steps_too_many", TRAIN + ["--steps", "99999999999999999999"],
         "--steps: 99999999999999999999 is not valid"),
        ("resume_threads_zero", ["resume", "{tmp}/nope.h5", "--threads", "0"],
         "--threads: 0 is not valid: " + THREADS_RANGE)]:
    globals()["test_usage_" + _name] = usage_case(_args, EX_USAGE, [_fragment])


def test_largest_seed_runs():
    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "good.toml"), GOOD_CONFIG)
        run_ok(["run", cfg, "-q", "--seed", "9223372036854775807"], cwd=tmp)
test_usage_two_configs = usage_case(
    ["run", "{cfg}", "{cfg}", "-o", "{out}"], EX_USAGE, [])
test_usage_set_without_equals = usage_case(
    ["run", "{cfg}", "-o", "{out}", "--set", "simulation.duration"], EX_USAGE,
    ["--set 'simulation.duration'", "key=value"])
test_usage_set_unknown_population = usage_case(
    ["run", "{cfg}", "-o", "{out}", "--set", "population.ecx.size=5"], EX_USAGE,
    ["no population named 'ecx'", "did you mean 'exc'?"])
test_usage_set_bad_key = usage_case(
    ["run", "{cfg}", "-o", "{out}", "--set", "simulation.sed=5"], EX_CONFIG,
    ["unknown key 'sed' in simulation", "did you mean 'seed'?"])
test_usage_set_bad_key_validate = usage_case(
    ["validate", "{cfg}", "--set", "simulation.sed=5"], EX_CONFIG,
    ["unknown key 'sed' in simulation", "did you mean 'seed'?"])
test_missing_config_file = usage_case(
    ["run", "{tmp}/nope.toml", "-o", "{out}"], EX_NOINPUT,
    ["cannot read config file", "{tmp}/nope.toml"])
test_missing_config_file_validate = usage_case(
    ["validate", "{tmp}/nope.toml"], EX_NOINPUT, ["cannot read config file", "{tmp}/nope.toml"])
test_config_is_a_directory = usage_case(
    ["run", "{tmp}", "-o", "{out}"], EX_NOINPUT, ["{tmp}"])
test_inspect_missing_file = usage_case(
    ["inspect", "{tmp}/nope.h5"], EX_NOINPUT, ["{tmp}/nope.h5"])
test_inspect_not_hdf5 = usage_case(
    ["inspect", "{cfg}"], EX_DATAERR, ["not an HDF5 file", "{cfg}"])
test_models_unknown_name = usage_case(
    ["models", "izhikevic"], EX_CONFIG, ["unknown model 'izhikevic'", "did you mean 'izhikevich'?"])
test_output_directory_missing = usage_case(
    ["run", "{cfg}", "-o", "{tmp}/no/such/dir/out.h5"], EX_CANTCREAT,
    ["cannot create output file", "{tmp}/no/such/dir/out.h5"])


def test_failed_config_keeps_existing_output_of_same_name():
    """A good run, then a bad config naming the same output file through the
    config's own [output] file key: the earlier results survive intact."""
    with TempDir() as tmp:
        existing = make_existing_output(tmp)
        before = read_bytes(existing)
        bad = write(os.path.join(tmp, "bad.toml"),
                    GOOD_CONFIG.replace("[simulation]\n", '[output]\nfile = "existing.h5"\n\n'
                                        '[simulation]\n')
                    .replace("weight = 5.0", "weight = 5.0\np = 0.5"))
        r = spikeline(["run", bad, "-q"], cwd=tmp)
        check_error_result(r, EX_CONFIG, ["p is not used by rule 'all_to_all'"])
        check(read_bytes(existing) == before, "existing.h5 changed")


def test_memory_limit_of_the_process_not_the_machine():
    """A batch job or a container gets less memory than the machine has:
    the estimate is checked against the smallest of the machine's memory,
    the cgroup limit and the rlimits, and the message names which."""
    if os.environ.get("SPIKELINE_SANITIZER") == "address":
        return  # no RLIMIT_AS under ASan (see limit_memory)

    def one_gib():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    with TempDir() as tmp:
        # 60,000 neurons at p = 0.02: 7.2e7 synapses, about 2 GiB to build.
        args = ["validate", clitest.example("coba.toml"), "--set", "population.exc.size=56000",
                "--set", "population.inh.size=4000"]
        r = spikeline(args, cwd=tmp, preexec_fn=one_gib, timeout=MAX_SECONDS)
        check_error_result(r, EX_CONFIG, ["the address-space limit (ulimit -v) is 1.0 GiB",
                                          "reduce the sizes"])
        run_ok(args, cwd=tmp)  # fits the machine


def test_memory_estimate_includes_writing_the_final_weights():
    """Writing the final weights at the end of a run needs 26 MiB of buffers
    beside the synapse tables: the estimate counts them, so a network that
    fits only without them is refused before it starts (was: accepted, and
    under the limit the run could fail at its end with a bare "out of
    memory"). 34,030,558 synapses and 2,000 neurons: 909 MiB to build, 13 MB
    under 90% of a 1 GiB address space, the buffers on top go over it."""
    if os.environ.get("SPIKELINE_SANITIZER") == "address":
        return  # no RLIMIT_AS under ASan (see limit_memory)

    def one_gib():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "m.toml"), GOOD_CONFIG.replace("size = 20", "size = 1000")
                    .replace("size = 10\n", "size = 1000\n")
                    .replace('rule = "all_to_all"', 'rule = "fixed_total_number"\ntotal = 34030558'))
        r = spikeline(["validate", cfg], cwd=tmp, preexec_fn=one_gib, timeout=MAX_SECONDS)
        check_error_result(r, EX_CONFIG, ["3.4e+07 synapses, 26 MiB to write the final weights",
                                          "the address-space limit (ulimit -v) is 1.0 GiB"])
        r = spikeline(["run", cfg, "-o", "out.h5"], cwd=tmp, preexec_fn=one_gib,
                      timeout=MAX_SECONDS)
        check_error_result(r, EX_CONFIG, ["26 MiB to write the final weights"])
        check(not os.path.exists(os.path.join(tmp, "out.h5")), "out.h5 was created")
        # Without the final weights (output.edges = false) it fits.
        r = spikeline(["validate", cfg, "--set", "output.edges=false"], cwd=tmp,
                      preexec_fn=one_gib, timeout=MAX_SECONDS)
        expect_exit(r, 0)


def test_memory_limit_of_a_parent_cgroup():
    """A batch scheduler's --mem is a cgroup memory limit, often on a parent
    of the job's cgroup: the estimate is checked against it. Needs a
    writable cgroup v1 memory hierarchy (root on this kind of machine);
    skipped otherwise (ctest runs it as its own test, cli.test_errors.cgroup,
    so that the skip shows in its count)."""
    base = "/sys/fs/cgroup/memory"
    parent = os.path.join(base, "spikeline-test-%d" % os.getpid())
    child = os.path.join(parent, "job")
    try:
        os.makedirs(child)
        with open(os.path.join(parent, "memory.limit_in_bytes"), "w") as f:
            f.write(str(1 << 30))
    except OSError as e:
        for d in (child, parent):
            if os.path.isdir(d):
                os.rmdir(d)
        raise clitest.Skip("no writable cgroup v1 memory hierarchy (%s)" % e)

    def enter():
        limit_memory()
        with open(os.path.join(child, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    try:
        with TempDir() as tmp:
            r = spikeline(["validate", clitest.example("coba.toml"), "--set",
                           "population.exc.size=56000", "--set", "population.inh.size=4000"],
                          cwd=tmp, preexec_fn=enter, timeout=MAX_SECONDS)
            check_error_result(r, EX_CONFIG, ["this process's cgroup memory limit is 1.0 GiB"])
    finally:
        os.rmdir(child)
        os.rmdir(parent)


def test_huge_config_file_is_refused_before_reading():
    with TempDir() as tmp:
        path = os.path.join(tmp, "huge.toml")
        with open(path, "w") as f:
            f.write(GOOD_CONFIG)
            line = "# " + "x" * 1022 + "\n"
            for _ in range(65 * 1024):
                f.write(line)
        r = spikeline(["validate", path], cwd=tmp, timeout=MAX_SECONDS, preexec_fn=limit_memory)
        check_error_result(r, EX_CONFIG, ["is 65.", "at most 64 MiB", "SONATA edges file"])


SPIKE_FILE_CONFIG = """\
[simulation]
duration = 10.0

[[population]]
name = "input"
model = "spike_generator"
size = 2
params = { spike_times_file = "%s" }
"""


def test_a_huge_bad_spike_times_line_is_quoted_cut():
    """A spike-times file with a 1 MiB line of garbage: the message quotes
    its first 80 bytes and says how long it was."""
    with TempDir() as tmp:
        write(os.path.join(tmp, "spikes.txt"), "0 1.0\n1 " + "9" * (1 << 20) + "x\n")
        cfg = write(os.path.join(tmp, "s.toml"), SPIKE_FILE_CONFIG % "spikes.txt")
        r = spikeline(["run", cfg, "-o", os.path.join(tmp, "out.h5"), "-q"], cwd=tmp,
                      timeout=MAX_SECONDS * 3, preexec_fn=limit_memory)
        check_error_result(r, EX_DATAERR, ["spikes.txt line 2:", "'1 9999",
                                           "... (%d bytes)'" % ((1 << 20) + 3)])
        check(len(r.stderr) < 1000, "stderr is %d bytes long" % len(r.stderr))
        check(not os.path.exists(os.path.join(tmp, "out.h5")), "out.h5 was created")


def not_regular_spike_times_case(make, fragment):
    """A spike_times_file that is not a regular file is refused (66), naming
    the parameter and the file, before it is opened: a FIFO blocked
    `validate` until a writer came (was: a hang), a device would be read
    without end."""
    def test():
        with TempDir() as tmp:
            path = make(tmp)
            cfg = write(os.path.join(tmp, "s.toml"), SPIKE_FILE_CONFIG % path)
            for cmd in (["validate", cfg], ["run", cfg, "-o", os.path.join(tmp, "out.h5"), "-q"]):
                r = spikeline(cmd, cwd=tmp, timeout=MAX_SECONDS)
                check_error_result(r, EX_NOINPUT, [
                    "population 'input' (spike_generator) parameter spike_times_file: '%s' is "
                    % path, fragment])
                check(not os.path.exists(os.path.join(tmp, "out.h5")), "out.h5 was created")
    return test


def make_fifo(tmp):
    path = os.path.join(tmp, "pipe.txt")
    os.mkfifo(path)
    return path


test_spike_times_file_fifo = not_regular_spike_times_case(make_fifo, "not a regular file")
test_spike_times_file_device = not_regular_spike_times_case(lambda tmp: "/dev/zero",
                                                            "not a regular file")


def test_config_file_fifo():
    """A config that is a FIFO is refused (66) before reading (was: a hang)."""
    with TempDir() as tmp:
        path = make_fifo(tmp)
        r = spikeline(["validate", path], cwd=tmp, timeout=MAX_SECONDS)
        check_error_result(r, EX_NOINPUT, ["cannot read config file '%s': it is not a regular "
                                           "file" % path])


def test_normal_delay_drawn_beyond_the_longest_delay():
    """normal(100000 ms, 5000 ms) with no high bound: about 17% of the draws
    lie beyond the longest delay (104857.6 ms at dt = 0.1). They were cut to
    it silently; now the run stops before creating its output (validate
    draws no synapse: it refuses only a mean beyond the longest delay)."""
    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "beyond.toml"), GOOD_CONFIG.replace(
            "delay = 1.0", 'delay = { distribution = "normal", mean = 100000.0, std = 5000.0 }'))
        out = os.path.join(tmp, "out.h5")
        r = spikeline(["run", cfg, "-o", out, "-q"], cwd=tmp, preexec_fn=limit_memory)
        check_error_result(r, EX_CONFIG, [
            "projection 'gen_to_exc' delay: a draw from normal(mean = 100000 ms, std = 5000 ms) is",
            "longer than the longest synaptic delay, 1048576 steps",
            "valid delays are 0.1 to 104857.6 ms", "give the distribution a high bound"])
        check(not os.path.exists(out), "run created %s although it failed" % out)


# --------------------------------------------------------------------------
# Hostile TOML: nesting and key length are bounded before toml++ reads the
# text (a table header 40,000 levels deep once crashed it with SIGSEGV).
# --------------------------------------------------------------------------

DEEP = 40000


def deep_file_case(text, fragments):
    def test():
        with TempDir() as tmp:
            path = write(os.path.join(tmp, "deep.toml"), text + GOOD_CONFIG)
            for cmd in (["validate", path], ["run", path, "-o", os.path.join(tmp, "out.h5")]):
                r = spikeline(cmd, cwd=tmp, timeout=MAX_SECONDS * 3, preexec_fn=limit_memory)
                check_error_result(r, EX_CONFIG, [path + ":"] + fragments)
            check(sorted(os.listdir(tmp)) == ["deep.toml"], "files appeared: %s" % os.listdir(tmp))
    return test


NESTING = ["levels deep", "at most 64 levels are allowed"]
test_deep_table_header = deep_file_case(
    "[" + ".".join(["a"] * DEEP) + "]\nx = 1\n", ["deep.toml:1:1: the TOML nests 40000"] + NESTING)
test_deep_array_of_tables_header = deep_file_case(
    "[[" + ".".join(["a"] * DEEP) + "]]\n", ["deep.toml:1:1"] + NESTING)
test_deep_dotted_key = deep_file_case(
    ".".join(["a"] * DEEP) + " = 1\n", ["deep.toml:1:1"] + NESTING)
test_deep_quoted_dotted_key = deep_file_case(
    '[simulation]\n' + ".".join(['"a"'] * DEEP) + " = 1\n", ["deep.toml:2:1"] + NESTING)
test_deep_inline_tables = deep_file_case(
    "x = " + "{a=" * DEEP + "1" + "}" * DEEP + "\n", NESTING)
test_deep_inline_dotted_key = deep_file_case(
    "x = {" + ".".join(["a"] * DEEP) + " = 1}\n", NESTING)
test_deep_arrays = deep_file_case("x = " + "[" * DEEP + "]" * DEEP + "\n", NESTING)
test_deep_mixed = deep_file_case(
    "[a.b]\nc = " + "[{d = " * 40 + "1" + "}]" * 40 + "\n", ["deep.toml:2:"] + NESTING)
test_long_key = deep_file_case(
    "[" + "k" * 5000 + "]\n",
    ["deep.toml:1:2", "a key of 5000 characters ('kkkkk", "...')", "at most 1024 characters"])
test_long_quoted_key = deep_file_case(
    '"' + "k" * 1025 + '" = 1\n', ["a key of 1025 characters", "at most 1024"])

# The deepest nesting allowed is fine (toml++ then reports the unknown key).
test_nesting_at_the_limit = deep_file_case(
    ".".join(["a"] * 64) + " = 1\n", ["unknown key 'a' in the config"])

test_set_deep_key = usage_case(
    ["validate", "{cfg}", "--set", ".".join(["a"] * 60000) + "=1"], EX_USAGE,
    ["--set a.a.a.a", "...: the key has 60000 parts: at most 64 are allowed"])
test_set_deep_key_run = usage_case(
    ["run", "{cfg}", "-o", "{out}", "--set", ".".join(["a"] * DEEP) + "=1"], EX_USAGE,
    ["the key has 40000 parts"])
test_set_long_key = usage_case(
    ["validate", "{cfg}", "--set", "simulation." + "k" * 2000 + "=1"], EX_USAGE,
    ["a key part of 2000 characters", "at most 1024 are allowed"])
test_set_deep_value = usage_case(  # ({{ and }} are braces: usage_case formats its arguments)
    ["validate", "{cfg}", "--set", "simulation.x={{" + ".".join(["a"] * DEEP) + "=1}}"], EX_USAGE,
    ["--set simulation.x: in the value: the TOML nests", "at most 64 levels"])
test_set_deep_inline_value = usage_case(
    ["validate", "{cfg}", "--set", "simulation.x=" + "{{a=" * 100 + "1" + "}}" * 100], EX_USAGE,
    ["in the value", "at most 64 levels"])


def all_tests():
    tests = [("test_corpus_is_complete", test_corpus_is_complete)]
    tests += corpus()
    tests += [(n, f) for n, f in clitest.collect(globals())
              if n != "test_corpus_is_complete"]
    return tests


if __name__ == "__main__":
    clitest.main(all_tests())
