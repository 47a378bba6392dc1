"""Typed SMPP errors: each class says which command_status answers it.

There is a class for each status the codec or the session raises, and no more: the
other statuses of SMPP 3.4 section 5.1.3 are plain `CommandStatus` values (a peer's
`*_resp` carries them as numbers; nothing here raises them). An error with no more
precise class is an `SmppError`, answered with ESME_RUNKNOWNERR.

A decode error raised for a frame whose header was readable carries that frame's
`sequence_number` and `command_id`, so the session can answer with the matching
`*_resp` (or generic_nack) and the status. They stay None when the header was unreadable.
"""

from __future__ import annotations

from typing import ClassVar

from smsgw.smpp.constants import CommandStatus

# N818 (Error suffix) is waived: the names mirror the SMPP status they carry.
# ruff: noqa: N818


class SmppError(Exception):
    command_status: ClassVar[int] = CommandStatus.ESME_RUNKNOWNERR
    sequence_number: int | None = None
    command_id: int | None = None


class InvalidMessageLength(SmppError):
    command_status = CommandStatus.ESME_RINVMSGLEN


class InvalidCommandLength(SmppError):
    command_status = CommandStatus.ESME_RINVCMDLEN


class InvalidCommandId(SmppError):
    command_status = CommandStatus.ESME_RINVCMDID


class IncorrectBindStatus(SmppError):
    command_status = CommandStatus.ESME_RINVBNDSTS


class InvalidSourceAddress(SmppError):
    command_status = CommandStatus.ESME_RINVSRCADR


class InvalidDestinationAddress(SmppError):
    command_status = CommandStatus.ESME_RINVDSTADR


class InvalidMessageId(SmppError):
    command_status = CommandStatus.ESME_RINVMSGID


class BindFailed(SmppError):
    command_status = CommandStatus.ESME_RBINDFAIL


class InvalidPassword(SmppError):
    command_status = CommandStatus.ESME_RINVPASWD


class InvalidSystemId(SmppError):
    command_status = CommandStatus.ESME_RINVSYSID


class MessageQueueFull(SmppError):
    command_status = CommandStatus.ESME_RMSGQFUL


class InvalidServiceType(SmppError):
    command_status = CommandStatus.ESME_RINVSERTYP


class InvalidNumberOfDestinations(SmppError):
    command_status = CommandStatus.ESME_RINVNUMDESTS


class InvalidDistributionListName(SmppError):
    command_status = CommandStatus.ESME_RINVDLNAME


class InvalidDestinationFlag(SmppError):
    command_status = CommandStatus.ESME_RINVDESTFLAG


class InvalidSystemType(SmppError):
    command_status = CommandStatus.ESME_RINVSYSTYP


class InvalidScheduledDeliveryTime(SmppError):
    command_status = CommandStatus.ESME_RINVSCHED


class InvalidValidityPeriod(SmppError):
    command_status = CommandStatus.ESME_RINVEXPIRY


class InvalidOptionalParameterStream(SmppError):
    command_status = CommandStatus.ESME_RINVOPTPARSTREAM


class InvalidParameterLength(SmppError):
    command_status = CommandStatus.ESME_RINVPARLEN


class InvalidParameterValue(SmppError):
    command_status = CommandStatus.ESME_RINVOPTPARAMVAL
