// Private helpers over the HDF5 C API: an owning handle for identifiers and
// the reason text of the last failure. Not installed; only io/src includes it.
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace spikeline::io::detail {

// Owns one HDF5 identifier and closes it with the H5*close that matches its
// kind. Move-only; an empty handle holds H5I_INVALID_HID.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }

  // Closes now and reports the result (closing a file flushes it, which can fail).
  herr_t close() noexcept {
    const herr_t status = (id_ >= 0 && closer_ != nullptr) ? closer_(id_) : 0;
    id_ = H5I_INVALID_HID;
    return status;
  }
  void reset() noexcept { (void)close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

inline Handle file_handle(hid_t id) {
  return {id, H5Fclose};
}
inline Handle group_handle(hid_t id) {
  return {id, H5Gclose};
}
inline Handle dataset_handle(hid_t id) {
  return {id, H5Dclose};
}
inline Handle space_handle(hid_t id) {
  return {id, H5Sclose};
}
inline Handle type_handle(hid_t id) {
  return {id, H5Tclose};
}
inline Handle plist_handle(hid_t id) {
  return {id, H5Pclose};
}
inline Handle attribute_handle(hid_t id) {
  return {id, H5Aclose};
}

// HDF5 prints its whole error stack to stderr by default; spikeline builds
// its own messages from hdf5_reason() instead. Every entry point of io/
// calls this before any other HDF5 function.
inline void silence_hdf5_errors() {
  // HDF5 installs an exit handler that closes whatever is still open; after
  // a write that failed (a full disk) it crashes there (HDF5 1.10.8, in
  // H5F__close_cb). Every object spikeline opens is closed by its Handle,
  // so the handler is not needed; it can only be declined before the
  // library initialises, hence first.
  static const bool no_exit_handler = [] { return H5dont_atexit() >= 0; }();
  (void)no_exit_handler;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace internal {
inline herr_t take_innermost(unsigned n, const H5E_error2_t* error, void* out) {
  // Walking upward, entry 0 is where the error was detected: usually the most
  // specific message (for files it carries errno and strerror).
  if (n == 0 && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
  return 0;
}
}  // namespace internal

// The most specific message on HDF5's error stack, shortened to the OS reason
// when there is one ("Permission denied"); clears the stack.
inline std::string hdf5_reason() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, internal::take_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  const std::string marker = "error message = '";
  if (const auto at = message.find(marker); at != std::string::npos) {
    const auto begin = at + marker.size();
    const auto end = message.find('\'', begin);
    if (end != std::string::npos) return message.substr(begin, end - begin);
  }
  return message.empty() ? std::string("unknown HDF5 error") : message;
}

}  // namespace spikeline::io::detail
