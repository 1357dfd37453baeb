// Named numeric datasets added to an HDF5 file, and read back from one:
// the narrow door through which the applications above io (the trainer's
// logs, scores and rasters; its pattern files) reach HDF5 without including
// it. The formats themselves (SONATA output, checkpoints) have their own
// writers; this is for the plain arrays an application adds beside them.
//
// Every error is an exception naming the file and the dataset: IoError(io)
// for a write that fails, Error(no_input) for a file that cannot be opened,
// DataError for a dataset of the wrong shape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace spikeline::io {

class DatasetFile {
 public:
  enum class Mode { read, read_write, create };
  // Opens an existing file (read, read_write), or creates one, replacing
  // any file of that name (create; Error(cant_create) if that fails).
  DatasetFile(const std::string& path, Mode mode);
  ~DatasetFile();
  DatasetFile(DatasetFile&&) noexcept;
  DatasetFile& operator=(DatasetFile&&) noexcept;

  const std::string& path() const;

  // A float64 dataset of shape `dims` (row-major, data.size() == product),
  // created with its intermediate groups ("training/loss").
  void write(const std::string& name, std::span<const double> data,
             std::initializer_list<std::uint64_t> dims);
  void write(const std::string& name, std::span<const double> data) {
    write(name, data, {data.size()});
  }

  // A uint8 dataset of shape [slabs][rows][cols], chunked and compressed one
  // slab a chunk, written one slab at a time: no copy of the whole array is
  // ever held. The writer must be filled slab by slab, in any order.
  class ByteSlabs {
   public:
    // `slab` holds rows * cols bytes.
    void write(std::uint64_t index, std::span<const std::uint8_t> slab);
    ~ByteSlabs();
    ByteSlabs(ByteSlabs&&) noexcept;

   private:
    friend class DatasetFile;
    struct Impl;
    explicit ByteSlabs(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };
  ByteSlabs create_byte_slabs(const std::string& name, std::uint64_t slabs, std::uint64_t rows,
                              std::uint64_t cols);

  // What read_bytes accepts as stored: any number HDF5 converts to uint8
  // (a float is truncated: 0.5 reads as 0), or integers only (an integer
  // type of any width and sign, or an enum over one, as h5py stores bool).
  enum class Stored { number, integer };

  // A whole dataset of rank `rank` read as uint8, and its dimensions.
  // DataError if it is absent, of another rank, of a stored type `stored`
  // refuses (naming the type), or holds a value outside 0 .. 255 (naming
  // it, where it is an integer: never clamped to 0 or 255).
  std::vector<std::uint8_t> read_bytes(const std::string& name, int rank,
                                       std::vector<std::uint64_t>& dims,
                                       Stored stored = Stored::number) const;

  // Whether the file has an object (a dataset, a group) at `name`.
  bool has(const std::string& name) const;

  // A whole 1-D dataset of strings (fixed- or variable-length, as h5py
  // stores a list of str), each cut at its first NUL. DataError if it is
  // absent, not 1-D or not stored as strings (naming the stored type).
  std::vector<std::string> read_strings(const std::string& name) const;

  // A whole numeric dataset of rank `rank` read as float64 (integers
  // converted), and its dimensions. DataError if it is absent, of another
  // rank, or not stored as numbers (naming the stored type).
  std::vector<double> read_doubles(const std::string& name, int rank,
                                   std::vector<std::uint64_t>& dims) const;

  // Closes (and so flushes) the file; IoError if that fails. The destructor
  // closes too, but cannot report.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spikeline::io
