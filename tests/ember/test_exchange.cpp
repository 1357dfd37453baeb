// The conversation's JSON lines: what an exchange holds, and every refusal
// with the message a user sees (naming the line).
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "spikeline/ember/exchange.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline;
using namespace spikeline::ember;

namespace {

std::string refusal(const std::string& line) {
  try {
    parse_exchange(line, "stdin line 3");
  } catch (const DataError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("an exchange holds texts, embeddings, a reward and an id", "[ember]") {
  const Exchange e = parse_exchange(
      R"({"user": "tea?", "assistant": "green, 80 C", "reward": -0.5, "id": 12})", "x");
  CHECK(e.user.text == "tea?");
  CHECK(e.assistant.text == "green, 80 C");
  CHECK(e.user.embedding.empty());
  CHECK(e.reward == -0.5);
  CHECK(e.id == "12");
  const Exchange f = parse_exchange(
      R"({"user_embedding": [1, -2.5, 3e-3], "assistant": "b", "assistant_embedding": [0.5, 1, 2]})",
      "x");
  CHECK(f.user.text.empty());
  CHECK(f.user.embedding == std::vector<double>{1, -2.5, 3e-3});
  CHECK(f.assistant.embedding == std::vector<double>{0.5, 1, 2});
  CHECK_FALSE(f.reward.has_value());
  CHECK(f.id.empty());
}

TEST_CASE("a bad exchange line is refused with its line and the reason", "[ember]") {
  CHECK(refusal(R"({"user": "a", "assistant": )") ==
        "stdin line 3: not JSON (parse error at line 1, column 28: syntax error while parsing "
        "value - unexpected end of input; expected '[', '{', or a literal): {\"user\": \"a\", "
        "\"assistant\": ");
  CHECK(refusal(R"(["user", "assistant"])") ==
        "stdin line 3: an exchange is a JSON object; got an array");
  CHECK(refusal(R"({"user": "a", "assistent": "b"})") ==
        "stdin line 3: unknown field \"assistent\" (did you mean 'assistant'?); valid fields: "
        "user, assistant, user_embedding, assistant_embedding, reward, id");
  CHECK(refusal(R"({"user": "  ", "assistant": "b"})") ==
        "stdin line 3: \"user\" is empty: a message needs a text (or give \"user_embedding\")");
  CHECK(refusal(R"({"user": 5, "assistant": "b"})") ==
        "stdin line 3: \"user\" must be a string; got a number");
  CHECK(refusal(R"({"user": "a"})") ==
        "stdin line 3: no assistant message: give \"assistant\" (a text) or "
        "\"assistant_embedding\"");
  CHECK(refusal(R"({"user": "a", "assistant": "b", "reward": 1e3})") ==
        "stdin line 3: \"reward\" = 1000 is out of range: valid is -100 to 100");
  CHECK(refusal(R"({"user": "a", "assistant": "b", "reward": "1"})") ==
        "stdin line 3: \"reward\" must be a number; got a string");
  CHECK(refusal(R"({"user_embedding": [], "assistant": "b"})") ==
        "stdin line 3: \"user_embedding\" is empty");
  CHECK(refusal(R"({"user_embedding": [1, "2"], "assistant": "b"})") ==
        "stdin line 3: \"user_embedding\"[1] must be a number; got a string");
  // JSON has no NaN: a literal NaN is malformed, and a number beyond a
  // double's range is refused by name.
  CHECK(refusal(R"({"user_embedding": [1, NaN], "assistant": "b"})")
            .rfind("stdin line 3: not JSON (parse error at line 1, column 24", 0) == 0);
  CHECK(refusal(R"({"user_embedding": [1, 1e999], "assistant": "b"})") ==
        "stdin line 3: a number out of range (number overflow parsing '1e999'): "
        "{\"user_embedding\": [1, 1e999], \"assistant\": \"b\"}");
  CHECK(refusal(R"({"user": "a", "assistant": "b", "id": [1]})") ==
        "stdin line 3: \"id\" must be a string or an integer; got an array");
}

TEST_CASE("blank lines and comments are skipped", "[ember]") {
  CHECK(is_skippable(""));
  CHECK(is_skippable("   \t"));
  CHECK(is_skippable("  # a comment"));
  CHECK_FALSE(is_skippable(R"({"user": "#"})"));
}

TEST_CASE("an embeddings table maps texts to embeddings of one size", "[ember]") {
  const auto dir = std::filesystem::temp_directory_path() / "spikeline_test_embeddings";
  std::filesystem::create_directories(dir);
  const auto good = (dir / "good.jsonl").string();
  std::ofstream(good) << "# made by my model\n"
                      << R"({"text": "tea", "embedding": [1, 2, 3]})"
                      << "\n\n"
                      << R"({"text": "coffee", "embedding": [3, 2, 1]})"
                      << "\n";
  const EmbeddingTable t = EmbeddingTable::read(good);
  CHECK(t.size() == 2);
  CHECK(t.dim() == 3);
  REQUIRE(t.find("coffee") != nullptr);
  CHECK(*t.find("coffee") == std::vector<double>{3, 2, 1});
  CHECK(t.find("water") == nullptr);

  auto refused = [&](const std::string& text) {
    const auto path = (dir / "bad.jsonl").string();
    std::ofstream(path) << text;
    try {
      EmbeddingTable::read(path);
    } catch (const Error& e) {
      return std::string(e.what()).substr(path.size() + 11);  // after "embeddings PATH"
    }
    return std::string("(accepted)");
  };
  CHECK(refused(R"({"text": "a", "embedding": [1, 2]})"
                "\n"
                R"({"text": "b", "embedding": [1]})") ==
        " line 2: an embedding of 1 entries where the first had 2");
  CHECK(refused(R"({"text": "a", "embedding": [1, 2]})"
                "\n"
                R"({"text": "a", "embedding": [3, 4]})") == ": the text \"a\" is listed twice");
  CHECK(refused(R"({"text": "a", "vector": [1, 2]})") ==
        " line 1: each line is {\"text\": ..., \"embedding\": [...]}; got {\"text\": \"a\", "
        "\"vector\": [1, 2]}");
  CHECK(refused("") == ": no embedding in the file");
  std::filesystem::remove_all(dir);
}
