"""``engagebot demo``: a simulated community on simcord, with the real bot, and no Discord token.

``community`` generates the community's plan (``plan``: plain dataclasses; ``phrases``: what its
members say) from a seed; ``runner`` plays the plan to the real bot on simcord's virtual clock;
``headless`` writes and prints what the bot posted; ``preview`` serves simcord's preview page;
``cli`` is the command. Nothing else in the program imports this package.
"""
