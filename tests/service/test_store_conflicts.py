"""The store reports a conflict; the service words the refusal. A second ACTIVE session
for a plate (a race the handlers' own checks cannot see: another node, another unit)
reaches the driver as `pay.already_active` with the running session's end, whether the
session was new or an awaiting one being activated. Real SQLite file, real units."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from smsgw.domain.errors import PlateAlreadyActiveError
from smsgw.domain.parking import ParkingSession, SessionState
from smsgw.service.session_flow import start_session
from smsgw.service.store_port import Tx
from smsgw.service.unit import lock_phone_unit
from smsgw.storage.sqlite import open_sqlite_store
from tests.storage.builders import OTHER_PHONE, PHONE, T0, session

from .harness import make_deployment


async def _start(tx: Tx, started: ParkingSession, *, is_new: bool) -> None:
    unit = await lock_phone_unit(
        tx,
        make_deployment(),
        msisdn=started.phone,
        operator_id="mts",
        now=T0,
        cause="test",
        seed="s",
    )
    await start_session(unit, started, is_new=is_new)


@pytest.mark.parametrize("is_new", [True, False], ids=["inserted", "activated"])
async def test_a_plate_active_elsewhere_is_refused_with_its_end(
    tmp_path: Path, is_new: bool
) -> None:
    store = await open_sqlite_store(tmp_path / "smsgw.sqlite3")
    try:
        running = session("s1", phone=OTHER_PHONE)
        await store.transact(lambda tx: tx.insert_session(running))
        late = session("s2", phone=PHONE, hours=1)
        if not is_new:
            waiting = replace(late, state=SessionState.AWAITING_PAYMENT)
            await store.transact(lambda tx: tx.insert_session(waiting))

        with pytest.raises(PlateAlreadyActiveError) as refused:
            await store.transact(lambda tx: _start(tx, late, is_new=is_new))

        assert refused.value.reply_key == "pay.already_active"
        assert refused.value.facts == {
            "plate": "A123BC77",
            "end": running.end,
            "example": "X*1*A123BC77",
        }
        stored = await store.transact(lambda tx: tx.get_session("s2"))
        if is_new:
            assert stored is None
        else:  # the refused activation left the awaiting session as it was
            assert stored is not None and stored.state is SessionState.AWAITING_PAYMENT
    finally:
        await store.close()
