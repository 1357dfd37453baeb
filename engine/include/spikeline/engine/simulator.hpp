// The simulation loop.
//
// Time advances in windows of the minimum delay (conservative lookahead, as
// in NEST and Arbor): a spike emitted in a window cannot reach any neuron
// before the window ends, so within a window the partitions are independent.
//
//            +-------------------- window [t0+1, t0+W] --------------------+
//  partition | for each step t: pop due events (deliveries, currents,     |
//  (parallel)|   emissions) -> update populations -> sample probes        |
//            +-------------------------------------------------------------+
//                                      |
//  exchange  | merge the partitions' spikes, sort by (step, pop, neuron)   |
//  (serial)  | -> observers (output files, progress)                       |
//                                      |
//  enqueue   | each partition files, for each spike and each delay group   |
//  (parallel)| of its own synapses, one delivery under step t + delay      |
//
// In a run of K processes (MPI ranks, SimulationOptions::comm) each one
// holds a contiguous block of the partitions (communicator.hpp) and only
// the synapses onto their neurons; the exchange then also gathers every
// rank's sorted spikes (allgather) and merges them into the same list a
// single process makes, so every partition files the same spikes in the
// same order whichever process holds it. When the window is 2 steps or
// more, each window can run as two epochs whose exchange overlaps the next
// epoch's computation (SimulationOptions::overlap; run_until's comment has
// the loop).
//
// Each partition owns its neurons' state, input buffers and event queue, so
// no step needs a lock or an atomic. Events are totally ordered (see
// event_queue.hpp) and spikes are sorted before they are enqueued, so the
// result is the same bit for bit whatever the number of threads, and
// whatever the number of partitions.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "spikeline/engine/aligned.hpp"
#include "spikeline/engine/communicator.hpp"
#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/event_queue.hpp"
#include "spikeline/engine/network.hpp"
#include "spikeline/engine/state_archive.hpp"

namespace spikeline {

namespace detail {
class StepTeam;
}

struct SpikeRecord {
  Step step;
  std::uint32_t population;
  NeuronIndex neuron;
  friend bool operator<(const SpikeRecord& a, const SpikeRecord& b) {
    if (a.step != b.step) return a.step < b.step;
    if (a.population != b.population) return a.population < b.population;
    return a.neuron < b.neuron;
  }
  friend bool operator==(const SpikeRecord&, const SpikeRecord&) = default;
};

struct SimulationOptions {
  int threads = 1;  // per process
  // Units of parallel work (results do not depend on it); 0: one per thread
  // of every process. At least one per process. Each partition costs every
  // spike a row lookup, so more than the threads only pays when the
  // partitions' work is uneven.
  unsigned partitions = 0;
  // The processes of the run (null: this one alone). Every process builds
  // the same network and calls run_until with the same steps.
  std::shared_ptr<Communicator> comm;
  // Guard: stop when a population's mean rate over a guard interval exceeds
  // this (Hz); 0 disables.
  double max_rate_hz = 0;
  double guard_interval_ms = 100;
  // Guard: stop when the run has taken longer than this (s); 0 disables.
  double wall_limit_s = 0;
  // Set asynchronously (by a signal handler) to the signal number: checked
  // while the synapses are laid out, at every slice of a partition, so that
  // Ctrl-C stops a long build promptly (the constructor throws, see
  // check_stop). The run loop is stopped by request_stop() instead.
  const volatile std::sig_atomic_t* stop_signal = nullptr;
  // Filing a window's spikes, a partition tests a bit per (projection,
  // source) before it reads the source's row, so that the rows with no
  // synapse there (most of them at many partitions) cost no cache miss.
  // `automatic` keeps a bitmap only where its rows are sparse enough for
  // the test to pay; `always` and `never` are for tests and benchmarks.
  // The spikes do not depend on it.
  enum class SourceBitmaps { automatic, always, never };
  SourceBitmaps source_bitmaps = SourceBitmaps::automatic;
  // Overlap of the spike exchange with computation (docs/mpi-design.md
  // 3.3): when the window is W >= 2 steps, each window runs as two epochs
  // of floor(W/2) and ceil(W/2) steps, and an epoch's exchange is in
  // flight while the next epoch is computed (a spike of epoch j arrives in
  // epoch j + 2 at the earliest). `automatic`: on when there are several
  // processes; `always` also in one (for tests); `never`. The results do
  // not depend on it; observers hear of an epoch one epoch later, and a
  // stop request or a failure then ends the run one window later.
  enum class Overlap { automatic, always, never };
  Overlap overlap = Overlap::automatic;
  // For tests: windows of this many steps, 1 to the shortest delay (0: the
  // shortest delay). The spikes do not depend on it.
  Step window_steps = 0;
};

// Throws, when `*stop` holds a signal number, Error(interrupted) for SIGINT
// or Error(terminated) for any other signal, saying that it stopped `what`
// ("building the network"). Does nothing when `stop` is null or 0.
void check_stop(const volatile std::sig_atomic_t* stop, const char* what);

// Receives the results of each window, on the calling thread.
class SimulationObserver {
 public:
  virtual ~SimulationObserver() = default;
  // Spikes of one window, or of one epoch (half a window, with overlap:
  // SimulationOptions::overlap), sorted by (step, population, neuron).
  virtual void on_spikes(std::span<const SpikeRecord> /*spikes*/) {}
  // Frames of probe `probe` sampled in the window (or epoch): rows x
  // columns, row-major.
  virtual void on_frames(std::size_t /*probe*/, std::span<const float> /*frames*/) {}
  // The window ending at `now` is complete (the same windows with overlap
  // or without; with overlap, heard of one epoch later).
  virtual void on_window(Step /*now*/) {}
};

// The input-dropout scales of neurons first .. first + n - 1 of population
// `population` at `step` (0 or 1 / (1 - p)), as Simulator::set_input_dropout
// applies them: scale[j] = 0 when RandomStream(seed, stream_id(dropout,
// population), first + j, key * 2^44 + step).uniform() < p. key < 2^20.
void input_dropout_scales(std::uint64_t seed, std::uint32_t population, std::uint64_t key,
                          Step step, NeuronIndex first, std::size_t n, double p, float* scale);

class Simulator {
 public:
  Simulator(Network network, SimulationOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Simulates steps now()+1 .. stop. Returns false when stopped early by
  // request_stop() (the last window is complete and reported). The state is
  // scanned for NaN and infinity every guard interval and, unless
  // `check_at_end` is false, at `stop`: a caller that runs in many short
  // pieces (a record every 100 ms) and writes no state between them passes
  // false and calls check_state() before it writes (EMBER's idle: a scan of
  // 220,000 neurons per piece was 8 % of the loop).
  bool run_until(Step stop, SimulationObserver& observer, bool check_at_end = true);
  // The NaN/infinity scan of every population's state at now() (GuardError
  // naming the first bad neuron and variable); nothing when now() was
  // checked already.
  void check_state() {
    if (state_checked_ != now_) check_state(now_);
  }
  Step now() const { return now_; }

  // Schedules a pulse of neuromodulator `modulator` at `step`, which must lie
  // after now() (between windows, every partition then sees it alike).
  void add_reward(std::size_t modulator, Step step, double amount);
  // Brings lazily updated plastic weights up to now() (before reading them).
  void sync_plasticity();
  // Tells projection k's rule (if any) that its weights were replaced.
  void weights_replaced(std::size_t projection);

  // A spike clamp: neuron `neuron` of population `population` spikes at
  // `step` whatever its own dynamics say (a cue, a teacher signal). The
  // population's spikes at that step are the union of its own and the
  // clamped ones: downstream synapses, plasticity rules and the output see
  // the clamped spike; the neuron's own state (its reset) does not. Steps
  // must lie after now(); between run_until() calls; not for generators.
  void clamp(std::size_t population, Step step, NeuronIndex neuron);

  // Dropout on the synaptic current (for training, Srivastava et al. 2014):
  // from now on, at each step each neuron of `population` loses its
  // synaptic input with probability p and the rest is scaled by 1 / (1 - p);
  // injected currents are untouched. The masks are a pure function of
  // (seed, population, key, step, neuron) -- input_dropout_scales() below --
  // so a trainer can recompute them; a new `key` draws new masks for the
  // same steps. p = 0 turns it off. Stepped populations only.
  void set_input_dropout(std::size_t population, double p, std::uint64_t key);

  // Between run_until() calls: a population's parameters changed. `next`,
  // the model rebuilt from the new parameters (its propagators computed
  // anew), takes the old one's place and its state: the old population's
  // checkpoint fields (state arrays, refractory counters...) loaded into
  // it, so a model gets this from its tables alone. Same size and update
  // mode; an event-driven population only before the first step (its
  // neurons hold their state as of their last event). A generator
  // (scheduled) takes over instead (Population::take_over): its spikes
  // already emitted stay (and those in flight are delivered), its
  // emissions still queued are dropped, and the new one's spikes from
  // step now() + 1 on are queued. Error naming the population else.
  void replace_population(std::size_t population, std::unique_ptr<Population> next);
  // Between run_until() calls: stimulus k's schedule from now on is
  // `changes` (as built from its new parameters). The current it injects
  // becomes at once what the new schedule gives at now(); changes after
  // now() follow the new schedule (the old ones still queued are voided).
  void set_stimulus_changes(std::size_t stimulus, std::vector<CurrentChange> changes);
  // Between run_until() calls: stimulus k, a current computed every step,
  // computes it with `wave` from the next step on (a pure function of the
  // step: as if configured so from the start).
  void set_stimulus_wave(std::size_t stimulus, std::shared_ptr<const CurrentWave> wave);
  // Between run_until() calls: Poisson input k draws with `drive` from the
  // next step on (its counts stay a function of (seed, k, neuron, step)).
  void set_poisson_drive(std::size_t input, const PoissonDrive& drive);

  // Asks a running simulation to stop at the end of the current window
  // (of several processes: at the end of the window whose exchange first
  // carries a request, the same for all); safe to call from a signal
  // handler or another thread.
  void request_stop() { stop_requested_.store(true, std::memory_order_relaxed); }
  // Lets run_until go on after a stop request (an in-process caller that
  // caught Ctrl-C and continues).
  void clear_stop_request() { stop_requested_.store(false, std::memory_order_relaxed); }

  // The synapses of a projection, for a trainer that changes weights in
  // place between run_until() calls (the order within blocks is fixed: see
  // connectivity.hpp). Plasticity rules of the projection are not told.
  Connectivity& connectivity_for_update(std::size_t projection) {
    return connectivity_[projection];
  }

  // Checkpoints. Why this network cannot be checkpointed (a model or rule
  // that does not support it, named), or "" when it can.
  std::string why_not_checkpointable() const;
  // Saves everything the rest of the run depends on (neuron state, inputs,
  // queued events, spikes in flight, plastic weights and rule state,
  // neuromodulator schedules, counters), or restores it into a simulator
  // built from the same network with the same number of partitions (any
  // number of threads). Between run_until() calls only. Restoring and
  // running on gives the same spikes, bit for bit, as never stopping.
  //
  // Of several processes, each saves and loads only its own partitions'
  // fields (`partitions/<p>`, `projections/<name>/<p>`) beside the others;
  // gather_checkpoint() makes one archive of them at rank 0.
  void checkpoint(StateArchive& a);
  // The checkpoint of a run of several processes, at rank 0: every rank's
  // archive (what checkpoint() saved there, beside any fields of the
  // caller's) goes to rank 0, which merges them into the archive one
  // process would have saved with the same partitions. Returned at rank 0;
  // nothing elsewhere, and nothing when `ok` is false on some rank (that
  // rank failed to save: its error, not this one, is the run's). A
  // collective. CheckpointError when a field is neither a partition's nor a
  // population's per-neuron array and differs between ranks (named).
  std::optional<MemoryArchive> gather_checkpoint(const MemoryArchive& mine, bool ok);
  // A hash of what the checkpoint does not hold because the config rebuilds
  // it: populations (names, models, sizes, and what each read from files),
  // the partitioning and every synapse (source, target, delay, and the
  // weight of static ones), the same at any number of processes (a
  // collective: every process calls it). A
  // checkpoint stores it, so that a config or an input file that changed
  // since is detected instead of resumed silently wrong.
  std::uint64_t fingerprint() const;

  const Network& network() const { return network_; }
  const Connectivity& connectivity(std::size_t projection) const {
    return connectivity_[projection];
  }
  // The plasticity rule of a projection, or null for static synapses.
  const PlasticityRule* plasticity(std::size_t projection) const {
    return network_.projections()[projection].plasticity.get();
  }
  // What can be recorded per synapse of a projection ("weight" first).
  std::vector<std::string> synapse_variables(std::size_t projection) const;
  // Variable `var` of the synapse at `where`, as of now(), without changing
  // any state (so recording leaves the run's results alone).
  double synapse_value(std::size_t projection, std::size_t var, SynapseLocation where) const;
  const TimeGrid& grid() const { return network_.grid(); }
  // One frame of probe `probe` as of now(), columns as on_frames() gives
  // them (node-major, variable-minor), without changing any state. The
  // initial state (now() = 0) of a probe with start = 0, which run_until()
  // does not sample: it samples after each step's update.
  std::vector<float> probe_frame(std::size_t probe) const;
  // Spikes per population so far.
  const std::vector<std::uint64_t>& spike_counts() const { return spike_counts_; }
  UpdateMode mode(std::size_t population) const { return modes_[population]; }
  // The lookahead window in steps (the shortest delay of the network).
  Step window() const { return window_; }
  // Whether run_until overlaps each epoch's spike exchange with the next
  // epoch's computation (SimulationOptions::overlap).
  bool overlaps() const { return overlap_; }
  // Synapses of every process.
  std::size_t synapse_count() const;
  // Bytes of this process's synapse tables.
  std::size_t synapse_memory_bytes() const;
  // The sources of projection `projection` with synapses in partition
  // `partition` (one of this process's), one bit each: bit s % 64 of word
  // s / 64, as filing tests them. Empty when the partition keeps no bitmap
  // for the projection (see SimulationOptions::source_bitmaps).
  std::span<const std::uint64_t> source_bitmap(std::size_t projection, unsigned partition) const;
  // The processes of the run and this one's partitions.
  const Communicator& communicator() const { return *comm_; }
  Placement placement() const { return placement_; }

 private:
  struct Partition;
  struct ProbeWindow;
  // The probes' samples of one epoch: which, and their values (two sets,
  // so that one epoch's frames wait for its exchange while the next epoch
  // samples).
  struct ProbeFrames {
    std::vector<ProbeWindow> plan;           // per probe
    std::vector<std::vector<float>> frames;  // per probe, rows x columns
  };
  // Steps (t0, t1] of the run: a window, or half of one when exchanges
  // overlap computation; what run_until keeps of it until its exchange is
  // complete and the observer has seen it.
  struct Epoch {
    Step t0 = 0, t1 = 0;
    bool window_end = false;  // t1 ends a window (guards, stops)
    std::uint64_t flags = 0;  // what this process said of itself
    unsigned probes = 0;      // its ProbeFrames
    // K = 1: its spikes (K > 1: they are in the exchange's buffers).
    std::vector<SpikeRecord> spikes;
    // check_state's verdict on the state at t1 (taken when it was current,
    // reported after the observer and the guards saw the epoch).
    std::exception_ptr state_failure;
    std::uint64_t state_key = 0;
  };
  // The constructor's steps, in order.
  // Lays out every projection's synapses for the partitioning; sets the window and the calendar's
  // size.
  void lay_out_projections();
  // Each population's update mode; refuses input to a generator.
  void choose_update_modes();
  // Input accumulators (and current arrays where a stimulus reaches) per population.
  void make_inputs();
  // The partitions: their ranges, stimulus and probe plans, calendars; the thread team.
  void make_partitions();
  // Plastic projections: incoming indices and the rules' per-partition state.
  void bind_plasticity();
  // The first events: generators' first spikes, clamps, the stimuli's current changes.
  void seed_queues();
  void step_partition(Partition& part, Step t);
  // One window (t0, t1] of one partition: its steps, its probes' samples,
  // its spikes sorted for the exchange.
  // `poll`, when given, is called between steps (the main thread moves an
  // exchange in flight on).
  void step_window(Partition& part, Step t0, Step t1, const std::function<void()>* poll);
  // Which samples each probe takes in (t0, t1]; sizes the frame buffers of
  // probe set `set`, which the steps then sample into.
  void plan_probes(unsigned set, Step t0, Step t1);
  void sample_probes(const Partition& part, Step t);
  // What a process says of itself in a window's exchange (K > 1).
  static constexpr std::uint64_t kStopFlag = 1;    // it was asked to stop
  static constexpr std::uint64_t kFailedFlag = 2;  // it failed (agree() follows)
  // The partitions' spikes of the epoch just stepped, merged into one
  // sorted list: the epoch's (K = 1), or sent to every process (K > 1: an
  // exchange started, finished by finish_exchange). `flags`: what this
  // process says of itself.
  void start_exchange(Epoch& epoch, std::uint64_t flags);
  // The epoch's spikes of every process (K > 1: once the exchange is
  // complete), merged into the list one process makes, counted. Returns the
  // or of every process's flags (K > 1; one process checks before a window).
  std::span<const SpikeRecord> finish_exchange(Epoch& epoch, std::uint64_t& flags);
  // A rule drawn source by source, in a run of several processes: the
  // synapses onto this process's partitions (each process draws a K-th of
  // the sources and sends every synapse to its target's process).
  std::vector<SynapseRecord> draw_by_source(const SynapseSource& source, std::size_t n_source,
                                            std::size_t n_target);
  // The trace samples of an epoch taken on the other processes, into
  // rank 0's frame buffers (K > 1; rank 0 alone writes them).
  void gather_frames(ProbeFrames& set);
  void deliver(Partition& part, std::uint32_t projection, std::uint32_t group, Step t);
  // Every delivery due at step t, in the bucket's order, prefetching ahead.
  void deliver_bucket(Partition& part, Step t);
  void handle_event(Partition& part, Step t);
  // A generator replaced: its queued emissions dropped, `next`'s queued.
  void reschedule(std::size_t population, Population& next);
  // Population q's injected current at step t over the partition's range:
  // the changes' running sum plus every wave into q (in Inputs::total).
  const double* wave_current(const Partition& part, std::size_t q, Step t);
  // Poisson input k's arrivals at step t onto the partition's neurons.
  void drive(Partition& part, std::size_t k, Step t);
  void apply_dropout(Partition& part, std::size_t population, Step t);
  template <typename F>
  void for_each_partition(F&& f);
  void enqueue(Partition& part, std::span<const SpikeRecord> spikes);
  Step guard_steps() const;  // guard_interval in steps (at least 1)
  void check_guards(Step window_end);
  // Refuses NaN or infinite neuron state: once per guard interval and at
  // the end of run_until, never per step (GuardError).
  void check_state(Step now);

  Network network_;
  SimulationOptions options_;
  Partitioning parts_;
  std::shared_ptr<Communicator> comm_;
  Placement placement_;
  // Population q's neurons have global ids [gid_base_[q], gid_base_[q + 1])
  // in the exchange between processes.
  std::vector<std::uint64_t> gid_base_;
  std::vector<std::uint64_t> total_synapses_;  // per projection, over every process
  std::vector<Connectivity> connectivity_;
  std::vector<std::vector<std::uint32_t>> projections_from_;  // by source population
  std::vector<std::vector<std::uint32_t>> plastic_into_;      // plastic projections by target
  std::vector<UpdateMode> modes_;
  // Per population, indexed by neuron: input accumulators and injected current.
  struct Inputs {
    // Aligned: the models' vectorised loops read them beside their own
    // state (engine/aligned.hpp says why).
    AlignedVector<float> ex, in;
    AlignedVector<double> current;
    // With waves (stimuli computed every step, by index): current plus
    // their values at the step being updated.
    std::vector<std::uint32_t> waves;
    std::vector<double> total;
    std::vector<std::uint8_t> touched;
  };
  std::vector<Inputs> inputs_;
  // Per population: input dropout (p = 0: none).
  struct Dropout {
    double p = 0;
    std::uint64_t key = 0;
  };
  std::vector<Dropout> dropout_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  ProbeFrames probe_sets_[2];
  unsigned sampling_ = 0;                   // the set the stepping epoch samples into
  std::vector<SpikeRecord> window_spikes_;  // one epoch's, K > 1
  std::vector<SpikeRecord> merge_scratch_;  // the exchange's second buffer
  // The spike exchange's buffers (K > 1), kept from window to window, and
  // the exchange in flight.
  std::vector<std::byte> wire_out_, wire_in_;
  std::vector<std::size_t> wire_counts_;
  std::vector<SpikeRecord> wire_block_;
  std::unique_ptr<Communicator::Pending> exchange_;
  std::array<Epoch, 3> epochs_;  // run_until's, kept for their buffers
  std::vector<std::uint64_t> spike_counts_;
  std::vector<std::uint64_t> guard_counts_;
  Step guard_start_ = 0;
  Step state_checked_ = -1;  // the step of the last check_state
  // Which neuron check_state refused: (population << 32) | partition, the
  // order in which one process finds it (K > 1: the lowest key is agreed).
  std::uint64_t state_failure_key_ = 0;
  Step next_state_check_ = 0;  // the first window end at or after it is checked
  Step now_ = 0;
  Step window_ = 1;
  Step window_steps_ = 1;  // the windows run_until steps (<= window_)
  bool overlap_ = false;
  std::size_t ring_size_ = 1;
  std::atomic<bool> stop_requested_{false};
  std::chrono::steady_clock::time_point started_;
  bool clock_started_ = false;
  struct Arena;
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<detail::StepTeam> team_;  // threads > 1: runs the loop's phases
};

}  // namespace spikeline
