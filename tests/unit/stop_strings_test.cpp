// StopStringMatcher: what a streamed reply shows around stop strings, piece by piece.
#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pocketlm {
namespace {

// Pushes the pieces; returns everything shown (flushing at the end when nothing matched).
std::string stream(StopStringMatcher& m, const std::vector<std::string>& pieces) {
  std::string shown;
  for (const std::string& p : pieces) {
    shown += m.push(p);
    if (m.matched()) return shown;
  }
  return shown + m.flush();
}

TEST(StopStrings, NoStopsPassesEverythingAtOnce) {
  StopStringMatcher m;
  EXPECT_EQ(m.push("Hello"), "Hello");
  EXPECT_EQ(m.held(), 0u);
  EXPECT_EQ(m.push(" world"), " world");
  EXPECT_FALSE(m.matched());
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, MatchInsideOnePiece) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("abcSTOPdef"), "abc");
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(m.push("more"), "");  // nothing after a match
}

TEST(StopStrings, MatchSplitOverPiecesIsNeverShown) {
  StopStringMatcher m({"<|im_end|>"});
  EXPECT_EQ(m.push("Sure<|"), "Sure");  // "<|" could begin the stop string
  EXPECT_EQ(m.held(), 2u);
  EXPECT_EQ(m.push("im_"), "");
  EXPECT_EQ(m.held(), 5u);
  EXPECT_EQ(m.push("end|>tail"), "");
  EXPECT_TRUE(m.matched());
}

TEST(StopStrings, FalseStartIsReleased) {
  StopStringMatcher m({"\n\nUser:"});
  EXPECT_EQ(m.push("one\n"), "one");
  EXPECT_EQ(m.push("\nUs"), "");
  EXPECT_EQ(m.push("ually"), "\n\nUsually");
  EXPECT_FALSE(m.matched());
}

TEST(StopStrings, HeldTextIsFlushedAtTheEnd) {
  StopStringMatcher m({"###"});
  EXPECT_EQ(m.push("done #"), "done ");
  EXPECT_EQ(m.push("#"), "");
  EXPECT_EQ(m.flush(), "##");
  EXPECT_EQ(m.held(), 0u);
}

TEST(StopStrings, EarliestOfSeveralWins) {
  StopStringMatcher m({"world", "lo w"});
  EXPECT_EQ(m.push("hello world"), "hel");
  EXPECT_TRUE(m.matched());
}

TEST(StopStrings, HoldsTheLongestPossibleBeginning) {
  // "aab" could begin "aabx" (3 bytes) and "abz" (2): the longer is held.
  StopStringMatcher m({"abz", "aabx"});
  EXPECT_EQ(m.push("xaab"), "x");
  EXPECT_EQ(m.held(), 3u);
  EXPECT_EQ(m.push("z"), "a");  // "aabz" contains "abz" after one byte
  EXPECT_TRUE(m.matched());
}

TEST(StopStrings, MatchAcrossManyOneBytePieces) {
  StopStringMatcher m({"END"});
  EXPECT_EQ(stream(m, {"x", "E", "N", "D", "y"}), "x");
  EXPECT_TRUE(m.matched());
}

TEST(StopStrings, Utf8StaysWhole) {
  // The stop string begins with the same lead byte as the text's "é": while held, the
  // character is never split, and once decided it comes out whole.
  StopStringMatcher m({"\xc3\xa8!"});               // "è!"
  EXPECT_EQ(m.push("caf\xc3\xa9"), "caf\xc3\xa9");  // "é" is not a beginning of "è!"
  EXPECT_EQ(m.push(" \xc3\xa8"), " ");              // "è" could be
  EXPECT_EQ(m.push("?"), "\xc3\xa8?");
  EXPECT_EQ(m.push("\xc3\xa8!"), "");
  EXPECT_TRUE(m.matched());
}

TEST(StopStrings, EmptyAndDuplicateStopsAreIgnored) {
  StopStringMatcher m({"", "x", "x"});
  EXPECT_EQ(m.stops().size(), 1u);
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.push("axb"), "a");
  EXPECT_TRUE(m.matched());
}

TEST(StopStrings, StreamEqualsWholeTextCutAtFirstMatch) {
  const std::string text = "The answer is 42.\n\nUser: thanks\n\nUser: again";
  const std::string stop = "\n\nUser:";
  // Every split of the text into two pieces shows the same thing.
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    StopStringMatcher m({stop});
    EXPECT_EQ(stream(m, {text.substr(0, cut), text.substr(cut)}), "The answer is 42.")
        << "cut at " << cut;
    EXPECT_TRUE(m.matched());
  }
}

}  // namespace
}  // namespace pocketlm
