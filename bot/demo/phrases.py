"""What the demo community says: message templates, by what the message is (see ``community``).

The question templates ask in the way the question detector recognises, and every other template
reads as no question at all (``tests/test_demo.py`` holds both), so the plan knows which messages
the bot will count as questions.
"""

from __future__ import annotations

THINGS = ("lantern forge", "ember bow", "night market", "glider", "tide shrine", "moth armour")
RESOURCES = ("copper", "moonstones", "resin", "amber", "glass")
PLATFORMS = ("Windows 11", "the Steam Deck", "Linux with Proton", "an old laptop")

GENERAL_QUESTIONS = (
    "anyone know when the next patch drops?",
    "is there a way to move my save to another PC?",
    "how do you unlock the {thing}?",
    "does the {thing} work in co-op?",
    "what's the best way to farm {resource}?",
    "can someone explain how bonfire linking works?",
    "where do I find the {thing}?",
    "which server region has the lowest ping for Europe?",
)
HELP_QUESTIONS = (
    "game crashes on startup since the last update, on {platform}",
    "my controller stops working after the first cutscene",
    "stuck on the loading screen at 90 percent on {platform}",
    "how do I fix the black screen on launch?",
    "can't join my friend's world, it says version mismatch",
    "lost my {resource} after the server restart, can anything be done?",
)
FORUM_POSTS = (
    ("Crash when opening the map", "Every time I open the map the game closes."),
    ("Best build for solo play", "Looking for a build that works without a team, what works?"),
    ("Save file missing after update", "My world is gone from the list after patching."),
    ("Co-op desync in the {thing} area", "My friend and I keep seeing different enemies."),
    ("Frame drops on {platform}", "The game stutters a lot in the night market."),
)
CHAT = (
    "just finished the {thing} questline, that ending 😮",
    "gg everyone, that raid was chaos",
    "the new {thing} looks amazing",
    "good morning all",
    "finally got the {thing}, took me all weekend",
    "patch notes look solid this time",
    "logging off, see you tomorrow",
    "that bug with the {thing} is hilarious",
    "the soundtrack in the second biome is so good",
    "trading {resource} for {resource} if anyone needs it",
    "streaming some {thing} runs tonight",
    "my base is finally finished, 40 hours well spent",
)
CHAT_REPLIES = (
    "haha yes",
    "agreed",
    "that's wild",
    "same here",
    "nice one",
    "congrats!",
    "lol same",
)
THREAD_CHAT = (
    "my money is on a new biome",
    "I'd love more co-op content",
    "agreed, the current map is a bit small",
    "the art direction keeps getting better",
    "a boss rush mode would be great",
    "here is my attempt, still learning",
)
THREAD_NAMES = ("patch speculation", "fan art", "build ideas", "speedrun talk", "base tours")
ANSWERS = (
    "you unlock it after the second boss",
    "check Settings > Controls, there's a toggle for that",
    "verify the game files in Steam, that fixed it for me",
    "it's in the north-east corner of the second biome",
    "delete the shader cache folder and restart",
    "update your GPU drivers, the latest ones fixed that crash",
    "co-op works, both players need the same version",
    "farm {resource} at night near the tide shrine",
)
STAFF_ANSWERS = (
    "thanks for the report, this is a known issue and the fix ships in the next patch",
    "send the crash log through the support form and we will take a look",
    "this is fixed in the beta branch, you can switch to it in Steam",
    "the servers were restarted last night, your items should be back after a relog",
)
SECOND_ANSWERS = ("same fix worked for me", "also make sure the game is not in compatibility mode")
CLARIFICATIONS = ("running the latest version", "tried reinstalling already", "happens every time")
THANKS = ("thanks, that worked", "that fixed it, thank you", "perfect, thanks a lot", "got it 🙏")
BUMPS = ("still stuck on this one", "bumping this, still happens")
HELLOS = ("hi all, here for the giveaway 🎉", "hello! just joined", "hey everyone 👋")
EMOJI = ("👍", "😂", "🔥", "❤️", "👀", "🎉")

NAMES = (
    ("quiet", "brave", "amber", "misty", "lucky", "swift", "sleepy", "cosmic", "rusty", "bold"),
    ("fox", "moth", "otter", "lantern", "raven", "tide", "fern", "comet", "wolf", "heron", "pine"),
)
"""Usernames are an adjective and a noun: quiet_fox, amber_heron."""
