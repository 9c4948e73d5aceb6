"""Building the sync worker from settings: the one place that knows where the platform is."""

from __future__ import annotations

from typing import Any

from drivers.manager import DeviceManager
from kiosk import __version__
from kiosk.config.settings import Settings, SettingsError
from kiosk.config.updater import ConfigUpdater, TakeUp
from offline.outbox import OutboxStore
from offline.sync import SyncClient, SyncWorker
from runtime.supervisor import WORKERS


def make_client(store: OutboxStore, settings: Settings) -> SyncClient | None:
    central = settings.central
    if not central.url or not central.token:
        return None
    from offline.http import PlatformTrustError, trust_platform

    try:
        # Process-wide for this origin: the online queries, built from the url alone, then
        # verify the platform against the same CA.
        trust_platform(central.url, ca_file=central.ca_file, allow_insecure=central.allow_insecure)
    except PlatformTrustError as exc:
        raise SettingsError(f"[central] {exc}") from exc
    from kiosk.platform_link.personal_key import AppliedPersonalKey

    return SyncClient(
        store,
        central.url,
        central.kiosk_id,
        central.token,
        batch_size=central.batch_size,
        timeout=central.timeout,
        personal_key=AppliedPersonalKey(settings),  # personal fields travel sealed to it
    )


def make_sync_worker(
    store: OutboxStore,
    settings: Settings,
    devices: DeviceManager | None = None,
    *,
    take_up: TakeUp | None = None,
) -> SyncWorker:
    def heartbeat() -> dict[str, Any]:
        statuses = devices.statuses() if devices is not None else []
        return {
            "app_version": __version__,
            "devices": [
                {
                    "name": st.name,
                    "kind": st.kind.value,
                    "driver": st.driver,
                    "state": st.state.value,
                    "fault_code": st.fault.code if st.fault else None,
                }
                for st in statuses
            ],
            "workers": [health.as_json() for health in WORKERS.health()],
        }

    # Signed configuration from the platform: verified against the trusted keys of
    # [central] config_trust (root's folder, not the data directory), applied atomically, taken
    # up by the running terminal via *take_up* (between visits, with a health check and a
    # rollback if it fails).
    from kiosk.config.screen_check import screen_problems

    # The running terminal (it takes bundles up) audits every screen with a bundle first.
    updater = ConfigUpdater.from_settings(
        settings, take_up=take_up, screen_check=screen_problems if take_up else None
    )
    worker = SyncWorker(
        make_client(store, settings),
        store,
        heartbeat_info=heartbeat,
        config_offer=updater.offer,
        config_due=(updater.due_report, updater.report_delivered),
        config_seconds=settings.central.config_interval,
        base=settings.central.backoff_base,
        cap=settings.central.backoff_cap,
    )
    updater.report_due = worker.wake  # a bundle taken up (or rolled back): tell the platform now
    return worker
