#!/usr/bin/python3
"""Writes examples/ember/conversation.jsonl: the fixed synthetic
conversation of EMBER's first-action figure (docs/ember.md).

Two topics alternate; in each, the user's question and the assistant's
answer are paraphrases drawn (with a fixed seed) from a few wordings, so
the same pair of concepts co-occurs in every exchange of its topic while no
two presentations are the same text. Every exchange is rewarded (+1).

    /usr/bin/python3 examples/ember/make_conversation.py > examples/ember/conversation.jsonl
"""

import json
import random
import sys

TOPICS = [
    (["how do I brew green tea", "what is the right way to brew green tea",
      "how should green tea be brewed", "tips for brewing green tea please"],
     ["use water at 80 degrees and steep it for two minutes",
      "steep it two minutes in water at about 80 degrees",
      "water around 80 degrees, two minutes of steeping",
      "keep the water near 80 degrees and steep for two minutes"]),
    (["my router keeps dropping the connection", "the router drops the connection all the time",
      "why does my router keep losing the connection", "my wifi router disconnects again and again"],
     ["hold the reset button for ten seconds and update the firmware",
      "reset it with the button held ten seconds, then update its firmware",
      "update the firmware after a ten second press of the reset button",
      "press reset for ten seconds and install the latest firmware"]),
]


def main(exchanges=16, seed=7):
    rng = random.Random(seed)
    out = sys.stdout
    for k in range(exchanges):
        users, answers = TOPICS[k % len(TOPICS)]
        out.write(json.dumps({"id": k + 1, "user": rng.choice(users),
                              "assistant": rng.choice(answers), "reward": 1}) + "\n")


if __name__ == "__main__":
    main()
