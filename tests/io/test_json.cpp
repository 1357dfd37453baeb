// The JSON writer of the run summaries: escaping, numbers JSON cannot hold,
// commas.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "spikeline/io/json_writer.hpp"

using spikeline::io::JsonWriter;

TEST_CASE("json: strings are escaped, whatever their bytes", "[json]") {
  JsonWriter j;
  j.begin_object();
  j.key("a\"b\\c").value("say \"hi\"\\n");
  j.key("ctl").value(std::string_view("\n\t\x01\x1f\x7f", 5));
  j.key("utf8").value("\xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82");  // é € 🙂: kept as they are
  // A stray continuation byte, a cut sequence, an overlong '/', a surrogate.
  j.key("bad").value(std::string_view("\x80x\xc3\xc0\xaf\xed\xa0\x80", 8));
  j.end_object();
  CHECK(j.text() ==
        "{\"a\\\"b\\\\c\":\"say \\\"hi\\\"\\\\n\","
        "\"ctl\":\"\\u000a\\u0009\\u0001\\u001f\x7f\","
        "\"utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82\","
        "\"bad\":\"\\ufffdx\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"}");
}

TEST_CASE("json: numbers JSON cannot hold are null, others read back exactly", "[json]") {
  JsonWriter j;
  j.begin_array();
  j.value(std::nan("")).value(std::numeric_limits<double>::infinity());
  j.value(-std::numeric_limits<double>::infinity()).value(0.1).value(2.0).value(1e300);
  j.value(std::uint64_t{18446744073709551615u}).value(std::int64_t{-3}).value(true).null();
  j.end_array();
  CHECK(j.text() == "[null,null,null,0.1,2,1e+300,18446744073709551615,-3,true,null]");
}

TEST_CASE("json: commas between elements, none after a key or in empty containers", "[json]") {
  JsonWriter j;
  j.begin_object().key("a").begin_array().end_array().key("b").begin_object().end_object();
  j.key("c").begin_array().begin_object().key("x").value(1).end_object();
  j.begin_object().key("y").value(2).key("z").value(3).end_object().end_array().end_object();
  CHECK(j.text() == R"({"a":[],"b":{},"c":[{"x":1},{"y":2,"z":3}]})");
}
