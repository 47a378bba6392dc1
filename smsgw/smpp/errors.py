"""Typed SMPP errors: each class says which command_status answers it.

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


class AlreadyBound(SmppError):
    command_status = CommandStatus.ESME_RALYBND


class InvalidPriorityFlag(SmppError):
    command_status = CommandStatus.ESME_RINVPRTFLG


class InvalidRegisteredDelivery(SmppError):
    command_status = CommandStatus.ESME_RINVREGDLVFLG


# Shadows the builtin on purpose: the brief's name for ESME_RSYSERR. Import it qualified.
class SystemError(SmppError):
    command_status = CommandStatus.ESME_RSYSERR


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


class CancelFailed(SmppError):
    command_status = CommandStatus.ESME_RCANCELFAIL


class ReplaceFailed(SmppError):
    command_status = CommandStatus.ESME_RREPLACEFAIL


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


class InvalidSubmitWithReplace(SmppError):
    command_status = CommandStatus.ESME_RINVSUBREP


class InvalidEsmClass(SmppError):
    command_status = CommandStatus.ESME_RINVESMCLASS


class CannotSubmitToDistributionList(SmppError):
    command_status = CommandStatus.ESME_RCNTSUBDL


class SubmitFailed(SmppError):
    command_status = CommandStatus.ESME_RSUBMITFAIL


class InvalidSourceTon(SmppError):
    command_status = CommandStatus.ESME_RINVSRCTON


class InvalidSourceNpi(SmppError):
    command_status = CommandStatus.ESME_RINVSRCNPI


class InvalidDestinationTon(SmppError):
    command_status = CommandStatus.ESME_RINVDSTTON


class InvalidDestinationNpi(SmppError):
    command_status = CommandStatus.ESME_RINVDSTNPI


class InvalidSystemType(SmppError):
    command_status = CommandStatus.ESME_RINVSYSTYP


class InvalidReplaceIfPresentFlag(SmppError):
    command_status = CommandStatus.ESME_RINVREPFLAG


class InvalidNumberOfMessages(SmppError):
    command_status = CommandStatus.ESME_RINVNUMMSGS


class Throttled(SmppError):
    command_status = CommandStatus.ESME_RTHROTTLED


class InvalidScheduledDeliveryTime(SmppError):
    command_status = CommandStatus.ESME_RINVSCHED


class InvalidValidityPeriod(SmppError):
    command_status = CommandStatus.ESME_RINVEXPIRY


class InvalidDefaultMessageId(SmppError):
    command_status = CommandStatus.ESME_RINVDFTMSGID


class TemporaryAppError(SmppError):
    command_status = CommandStatus.ESME_RX_T_APPN


class PermanentAppError(SmppError):
    command_status = CommandStatus.ESME_RX_P_APPN


class RejectedAppError(SmppError):
    command_status = CommandStatus.ESME_RX_R_APPN


class QueryFailed(SmppError):
    command_status = CommandStatus.ESME_RQUERYFAIL


class InvalidOptionalParameterStream(SmppError):
    command_status = CommandStatus.ESME_RINVOPTPARSTREAM


class OptionalParameterNotAllowed(SmppError):
    command_status = CommandStatus.ESME_ROPTPARNOTALLWD


class InvalidParameterLength(SmppError):
    command_status = CommandStatus.ESME_RINVPARLEN


class MissingOptionalParameter(SmppError):
    command_status = CommandStatus.ESME_RMISSINGOPTPARAM


class InvalidParameterValue(SmppError):
    command_status = CommandStatus.ESME_RINVOPTPARAMVAL


class DeliveryFailure(SmppError):
    command_status = CommandStatus.ESME_RDELIVERYFAILURE


class UnknownError(SmppError):
    command_status = CommandStatus.ESME_RUNKNOWNERR
