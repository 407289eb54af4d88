"""/engage: the moderators' settings and data commands."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderators_only, require_guild, require_same_guild
from bot.convert import channel_record, guild_record
from bot.domain.periods import PeriodError
from bot.errors import UserFacingError
from bot.history import ReadReport
from bot.render.report_text import CsvTooLarge, write_csv
from bot.services.reports import Export, ReportService

if TYPE_CHECKING:
    from bot.app import EngageBot

log = logging.getLogger(__name__)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Engage(commands.GroupCog, group_name="engage"):
    """Moderators: configure engagebot and manage its data."""

    def __init__(self, bot: EngageBot) -> None:
        self.bot = bot
        self.ingest = bot.services.ingest
        self.history = bot.history
        super().__init__()

    @app_commands.command()
    @app_commands.describe(days="How many days back to read (1 to 365).")
    @moderators_only()
    async def backfill(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 30
    ) -> None:
        """Read past messages of the watched channels into the statistics (safe to repeat)."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def progress(report: ReadReport) -> None:
            await interaction.edit_original_response(
                content=f"Reading history: {report.channels_done}/{report.channels} channels, "
                f"{report.messages} messages so far."
            )

        report = await self.history.backfill(guild, days, progress)
        skipped = (
            f" {report.skipped_channels} channels could not be read (the bot lacks "
            "Read Message History there)."
            if report.skipped_channels
            else ""
        )
        await interaction.edit_original_response(
            content=f"Done: read {report.messages} messages from the last {days} days in "
            f"{report.channels} channels and threads.{skipped}"
        )

    @app_commands.command()
    @app_commands.describe(
        channel="A channel or forum (its threads and posts follow it).",
        mode="watch: count it (then only watched channels count); ignore: never count it; "
        "default: follow the server default.",
    )
    @moderators_only()
    async def watch(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.ForumChannel | discord.VoiceChannel,
        mode: Literal["watch", "ignore", "default"],
    ) -> None:
        """Choose which channels count as community activity."""
        guild = require_guild(interaction)
        require_same_guild(guild, channel, "channel")
        watched = {"watch": True, "ignore": False, "default": None}[mode]
        view = await self.ingest.set_watch(channel_record(channel), watched)
        explicit = sorted(c.channel_id for c in view.channels.values() if c.watched is True)
        ignored = sorted(c.channel_id for c in view.channels.values() if c.watched is False)
        if explicit:
            scope = "Only these channels count: " + ", ".join(f"<#{c}>" for c in explicit)
        else:
            scope = "Every channel the bot can read counts"
        if ignored:
            scope += "; never counted: " + ", ".join(f"<#{c}>" for c in ignored)
        await interaction.response.send_message(
            f"{channel.mention}: {mode}. {scope}.", ephemeral=True
        )

    @app_commands.command()
    @app_commands.describe(member="The member whose stored data is erased.")
    @moderators_only()
    async def forget(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Erase what is stored about a member and stop recording them (a privacy request)."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.ingest.forget_member(guild.id, member.id)
        log.info(
            "moderator %s erased member %s in guild %s",
            interaction.user.id,
            member.id,
            guild.id,
        )
        await interaction.followup.send(
            f"Erased what was stored about {member.mention}; their activity is no longer "
            "recorded (they can opt in again with `/privacy opt-in`).",
            ephemeral=True,
        )

    @app_commands.command(name="inbox-channel")
    @app_commands.describe(channel="Where cards for unanswered questions are posted.")
    @moderators_only()
    async def inbox_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Choose the moderators' inbox channel."""
        guild = require_guild(interaction)
        require_same_guild(guild, channel, "channel")
        me = guild.me
        permissions = channel.permissions_for(me)
        if not (permissions.send_messages and permissions.embed_links):
            raise UserFacingError(
                f"I cannot post cards in {channel.mention}: give me Send Messages and Embed Links "
                "there first."
            )
        await self.ingest.configure_guild(
            guild_record(guild, discord.utils.utcnow()), inbox_channel_id=channel.id
        )
        await interaction.response.send_message(
            f"Cards for unanswered questions now go to {channel.mention}.", ephemeral=True
        )

    @app_commands.command()
    @app_commands.describe(
        minutes="How long a question may wait for a first response (1 to 10080).",
        channel="Only for this channel (and its threads); leave out for the server default.",
    )
    @moderators_only()
    async def target(
        self,
        interaction: discord.Interaction,
        minutes: app_commands.Range[int, 1, 10080],
        channel: discord.TextChannel | discord.ForumChannel | None = None,
    ) -> None:
        """Set the response target after which an unanswered question enters the inbox."""
        guild = require_guild(interaction)
        if channel is None:
            await self.ingest.configure_guild(
                guild_record(guild, discord.utils.utcnow()), response_target_minutes=minutes
            )
            where = "this server"
        else:
            require_same_guild(guild, channel, "channel")
            await self.ingest.configure_channel(
                channel_record(channel), response_target_minutes=minutes
            )
            where = channel.mention
        await interaction.response.send_message(
            f"Response target for {where}: {minutes} minutes (for questions asked from now on).",
            ephemeral=True,
        )

    @app_commands.command(name="help-channel")
    @app_commands.describe(
        channel="A channel where every top-level message asks for help.",
        enabled="On (default) or off.",
    )
    @moderators_only()
    async def help_channel(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.ForumChannel,
        enabled: bool = True,
    ) -> None:
        """Mark a help channel: its top-level messages are always questions."""
        guild = require_guild(interaction)
        require_same_guild(guild, channel, "channel")
        await self.ingest.configure_channel(channel_record(channel), is_help=enabled)
        state = "is now a help channel" if enabled else "is no longer a help channel"
        await interaction.response.send_message(f"{channel.mention} {state}.", ephemeral=True)

    @app_commands.command(name="staff-role")
    @app_commands.describe(
        role="A role whose members are staff (their messages are answers, never questions).",
        enabled="On (default) or off.",
    )
    @moderators_only()
    async def staff_role(
        self, interaction: discord.Interaction, role: discord.Role, enabled: bool = True
    ) -> None:
        """Add or remove a staff role (staff may also use these commands and the inbox)."""
        guild = require_guild(interaction)
        require_same_guild(guild, role, "role")
        if role.is_default():
            raise UserFacingError("@everyone cannot be the staff role.")
        view = await self.ingest.set_staff_role(
            guild_record(guild, discord.utils.utcnow()), role.id, enabled
        )
        roles = ", ".join(f"<@&{r}>" for r in sorted(view.settings.staff_role_ids)) or "none"
        await interaction.response.send_message(f"Staff roles: {roles}.", ephemeral=True)

    @app_commands.command(name="inferred-linking")
    @app_commands.describe(
        channel="A channel where people answer without using Discord's reply.",
        enabled="On or off (off by default).",
    )
    @moderators_only()
    async def inferred_linking(
        self, interaction: discord.Interaction, channel: discord.TextChannel, enabled: bool
    ) -> None:
        """Let the answer linker infer which question a plain message answers in a channel."""
        guild = require_guild(interaction)
        require_same_guild(guild, channel, "channel")
        await self.ingest.configure_channel(channel_record(channel), inferred_linking=enabled)
        state = "on" if enabled else "off"
        await interaction.response.send_message(
            f"Inferred answer linking in {channel.mention}: {state}.", ephemeral=True
        )

    export_limit: int | None = None
    """The largest CSV /engage export attaches, in bytes (None: what Discord allows the
    interaction, 25 MiB for most servers)."""

    @app_commands.command()
    @app_commands.describe(
        what="messages, questions, members, or daily (a row per day).",
        period="Only this period: this week, last week, last 7/28/90 days, or dates as "
        "2026-03-01..2026-03-31 (default: all history).",
        with_content="Add message text (messages and questions), where the privacy setting "
        "kept it.",
    )
    @moderators_only()
    async def export(
        self,
        interaction: discord.Interaction,
        what: Literal["messages", "questions", "members", "daily"],
        period: str | None = None,
        with_content: bool = False,
    ) -> None:
        """Download this server's statistics as a CSV file (the same as engagebot export)."""
        guild = require_guild(interaction)
        stats = self.bot.services.stats
        chosen = None
        if period is not None:
            try:
                _, chosen = await stats.resolve(guild.id, period)
            except PeriodError as exc:
                reason = str(exc)
                raise UserFacingError(f"{reason[:1].upper()}{reason[1:]}.") from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.ingest.writer.flush()
        table = ReportService(stats.guilds, stats.clock).export(
            guild.id, Export(what), chosen, with_content=with_content
        )
        limit = self.export_limit or interaction.filesize_limit
        buffer = io.BytesIO()
        try:
            rows = await write_csv(table.columns, table.rows, buffer, max_bytes=limit)
        except CsvTooLarge:
            raise UserFacingError(
                f"The {what} export is larger than the {limit / 2**20:.0f} MiB Discord lets me "
                "attach here. Choose a shorter `period`, or run "
                f"`engagebot export --guild {guild.id} --what {what} --out {what}.csv` where "
                "the bot runs."
            ) from None
        buffer.seek(0)
        scope = f" in {chosen.label}" if chosen is not None else ""
        content_note = ""
        if with_content and not Export(what).has_content:
            content_note = f" ({what} have no message text.)"
        log.info("moderator %s exported %s of guild %s", interaction.user.id, what, guild.id)
        await interaction.followup.send(
            f"{what}{scope}: {rows:,} rows.{content_note}",
            file=discord.File(buffer, filename=f"{what}.csv"),
            ephemeral=True,
        )


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Engage(bot))
