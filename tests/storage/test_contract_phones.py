"""Phones: created by lock_phone, remembering their operator and reply language."""

from __future__ import annotations

from smsgw.language import Language
from smsgw.service.ports import PhoneProfile
from smsgw.service.store_port import Store
from tests.storage.builders import OTHER_PHONE, PHONE


async def test_lock_phone_creates_the_phone_with_its_operator(store: Store) -> None:
    locked = await store.transact(lambda tx: tx.lock_phone(PHONE, "beeline"))
    found = await store.transact(lambda tx: tx.get_phone(PHONE))

    assert locked == found == PhoneProfile(PHONE, None, "beeline")


async def test_an_unknown_phone_is_none(store: Store) -> None:
    assert await store.transact(lambda tx: tx.get_phone(OTHER_PHONE)) is None


async def test_the_operator_follows_the_latest_link_and_stays_when_not_given(store: Store) -> None:
    await store.transact(lambda tx: tx.lock_phone(PHONE, "beeline"))
    ported = await store.transact(lambda tx: tx.lock_phone(PHONE, "mts"))
    unknown_link = await store.transact(lambda tx: tx.lock_phone(PHONE, None))

    assert ported.operator_id == "mts"
    assert unknown_link.operator_id == "mts"


async def test_the_language_is_kept_per_phone(store: Store) -> None:
    await store.transact(lambda tx: tx.lock_phone(PHONE, "beeline"))
    await store.transact(lambda tx: tx.set_language(PHONE, Language.KK))
    await store.transact(lambda tx: tx.set_language(OTHER_PHONE, Language.EN))  # new phone
    relocked = await store.transact(lambda tx: tx.lock_phone(PHONE, "tele2"))

    assert relocked == PhoneProfile(PHONE, Language.KK, "tele2")
    assert await store.transact(lambda tx: tx.get_phone(OTHER_PHONE)) == PhoneProfile(
        OTHER_PHONE, Language.EN, None
    )
