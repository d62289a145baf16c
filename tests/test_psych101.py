"""Psych-101 text written verbatim by sbl: two tasks of different families, each run by a
scripted participant whose seed draws the record's option letters, must reproduce the
record's text line for line.

The stored Psych-101 jsonl (Hugging Face ``marcelbinz/Psych-101``, 859 MB, LFS) could not be
read here, so the records are the nearest verbatim sources that could:

- the horizon task (two-armed bandit with forced trials and games), as the authors' own
  generator writes it, quoted in ``reference/centaur.md`` (instructions, game header, an
  instructed and a free trial);
- ``demircan2024evaluatingreward``, participant 0 (image pairs chosen with two keys, both
  values revealed), the first lines of its record in ``prompts.jsonl`` of the Psych-201
  repository (github.com/modirshanechi/Psych-201, commit a7d7d15a, same format and authors).
"""

# ruff: noqa: E501 - the records and their programs are quoted verbatim, one line per line

from __future__ import annotations

import sbl
from sbl.backends.text import transcript
from sbl.backends.text.answers import label_order
from sbl.participants.scripted import Scripted

HORIZON_SEED = 362  # its participant's letters start C, A
DEMIRCAN_SEED = 776  # H, Q

HORIZON_RECORD = """\
You are participating in multiple games involving two slot machines, labeled C and A.
The two slot machines are different across different games.
Each time you choose a slot machine, you get some points.
You choose a slot machine by pressing the corresponding key.
Each slot machine tends to pay out about the same amount of points on average.
Your goal is to choose the slot machines that will give you the most points across the experiment.

Game 1. There are 10 trials in this game.
You are instructed to press C and get 63 points.
You press <<C>> and get 59 points."""

HORIZON = '''
experiment "Horizon task"

# Game 1: ten trials, the first one instructed (machine 0), then free choices.
table games = [
  {
    game: 1
    trials: [
      {left: 63, right: 40, forced: 0},
      {left: 59, right: 38, forced: none},
      {left: 60, right: 41, forced: none},
      {left: 58, right: 39, forced: none},
      {left: 61, right: 42, forced: none},
      {left: 62, right: 37, forced: none},
      {left: 57, right: 44, forced: none},
      {left: 64, right: 36, forced: none},
      {left: 60, right: 40, forced: none},
      {left: 59, right: 43, forced: none},
    ]
  },
  {game: 2, trials: [{left: 20, right: 70, forced: 1}, {left: 22, right: 68, forced: none}]},
]

instructions {
  pages: ["Choose between two slot machines to win as many points as you can."]
  prompt: """
    You are participating in multiple games involving two slot machines, labeled {labels[0]} and {labels[1]}.
    The two slot machines are different across different games.
    Each time you choose a slot machine, you get some points.
    You choose a slot machine by pressing the corresponding key.
    Each slot machine tends to pay out about the same amount of points on average.
    Your goal is to choose the slot machines that will give you the most points across the experiment.
  """
}

block game over games {
  block trial over trials {
    header: "Game {game}. There are {len(rows)} trials in this game."
    bandit {
      arms: [{color: "orange", value: left}, {color: "blue", value: right}]
      forced: forced
      prompt: "{if instructed then 'You are instructed to press' else 'You press'} {answer} and get {value} points."
    }
  }
}
'''

DEMIRCAN_RECORD = """\
During this task, you will be presented with pairs of images, each of which is associated with a certain number of points.
In each trial, please select an image. After your selection, points of both images will be revealed to you.
The image on the left can be selected using H, and the image on the right can be selected using Q.
Your goal is to maximise the total number of points.
The points are associated with the images in a structured way, and they vary from 0 to 100.
There are 60 trials in total.
You were shown hook on the left and satellite dish on the right. You press <<H>> and receive 99 points. hook had 99 points, and satellite dish had 46 points.
You were shown wheelbarrow on the left and beer on the right. You press <<H>> and receive 63 points. wheelbarrow had 63 points, and beer had 4 points.
You were shown rocket on the left and traffic light on the right. You press <<H>> and receive 38 points. rocket had 38 points, and traffic light had 55 points.
You were shown clipper on the left and shoehorn on the right. You press <<H>> and receive 38 points. clipper had 38 points, and shoehorn had 89 points.
You were shown screw on the left and soy sauce on the right. You press <<Q>> and receive 11 points. screw had 93 points, and soy sauce had 11 points.
"""

DEMIRCAN = '''
experiment "Evaluating reward"

table pairs = [
  {left: "hook", right: "satellite dish", points: [99, 46]},
  {left: "wheelbarrow", right: "beer", points: [63, 4]},
  {left: "rocket", right: "traffic light", points: [38, 55]},
  {left: "clipper", right: "shoehorn", points: [38, 89]},
  {left: "screw", right: "soy sauce", points: [93, 11]},
]

# The record has no blank line after its instructions, so they are a text screen here.
text instructions {
  text: "Choose one image of each pair; both images' points are shown after your choice."
  prompt: """During this task, you will be presented with pairs of images, each of which is associated with a certain number of points.
In each trial, please select an image. After your selection, points of both images will be revealed to you.
The image on the left can be selected using {labels[0]}, and the image on the right can be selected using {labels[1]}.
Your goal is to maximise the total number of points.
The points are associated with the images in a structured way, and they vary from 0 to 100.
There are 60 trials in total."""
}

block trial over pairs {
  choice {
    stimulus: "Which image do you choose?"
    choices: [left, right]
    prompt: "You were shown {left} on the left and {right} on the right. You press {answer} and receive {points[response]} points. {left} had {points[0]} points, and {right} had {points[1]} points."
  }
}
'''


def test_the_seeds_draw_the_records_letters():
    assert label_order(HORIZON_SEED)[:2] == ("C", "A")
    assert label_order(DEMIRCAN_SEED)[:2] == ("H", "Q")


def test_horizon_task_verbatim():
    exp = sbl.loads(HORIZON, "horizon.sbl")
    text = transcript(exp.ir, Scripted(["C"] * 9 + ["a"]), seed=HORIZON_SEED)
    lines = text.split("\n")
    expected = HORIZON_RECORD.split("\n")
    assert lines[:len(expected)] == expected
    # the rest of game 1, then game 2 after a blank line, its first trial instructed
    assert lines[len(expected):len(expected) + 8] == [
        f"You press <<C>> and get {v} points." for v in (60, 58, 61, 62, 57, 64, 60, 59)]
    assert lines[len(expected) + 8:] == [
        "", "Game 2. There are 2 trials in this game.",
        "You are instructed to press A and get 70 points.",
        "You press <<A>> and get 68 points."]


def test_demircan_reward_verbatim():
    exp = sbl.loads(DEMIRCAN, "demircan.sbl")
    text = transcript(exp.ir, Scripted(["H", "H", "H", "H", "Q"]), seed=DEMIRCAN_SEED)
    # the record ends each line, its last one too, with a newline
    assert text.split("\n") == DEMIRCAN_RECORD.rstrip("\n").split("\n")
