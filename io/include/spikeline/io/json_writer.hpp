// JSON text, written by one small writer: the run summaries stored in
// /provenance/summary (app/run.cpp, app/train.cpp) hold names a user chose
// (populations, neuromodulators) and error messages that quote input, so
// they are never pasted into a format string.
//
// Strings are escaped as RFC 8259 asks: `"` and `\` with a backslash,
// control characters (below U+0020) as \uXXXX; bytes that are not valid
// UTF-8 become U+FFFD, so the text is always valid UTF-8. Numbers that JSON
// cannot hold (NaN, infinities) are written as null. Commas are placed by
// the writer; nesting is the caller's to balance.
//
//   JsonWriter j;
//   j.begin_object().key("name").value(name).key("rate_hz").value(r).end_object();
//   j.text();  // {"name":"a\"b","rate_hz":2.5}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::io {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // The key of the next value in an object.
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(double number);
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(bool flag);
  JsonWriter& null();

  const std::string& text() const { return out_; }

 private:
  void before_value();
  void open(char bracket);
  void close(char bracket);
  void string(std::string_view text);

  std::string out_;
  // Per open object or array: whether it holds an element yet.
  std::vector<bool> filled_;
  bool after_key_ = false;
};

}  // namespace spikeline::io
