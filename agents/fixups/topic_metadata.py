"""A metadata refresh of a plain aiokafka consumer (the control follower, agents/control.py).

Symptom: the control follower reads ``edfi.control`` without a group; when the topic is created a moment
after the consumer starts, ``partitions_for_topic`` stays empty until the client's next metadata refresh
(``metadata_max_age_ms``, five minutes by default). aiokafka's public ``topics()`` fetches metadata without
updating the client's cluster view, so the follower asks the client itself to refresh.

Faust: none (aiokafka): ``AIOKafkaConsumer._client`` and ``AIOKafkaClient.force_metadata_update``.

Seen with: aiokafka 0.14.0.

Remove when: aiokafka's consumer offers a public refresh (or ``partitions_for_topic`` fetches what it does
not know); the proof is tests/integration/test_resync_toggle.py with the public call in its place.
"""

from __future__ import annotations

from typing import Any


async def refresh(consumer: Any) -> None:
    """Refresh the cluster metadata of an aiokafka consumer now."""
    await consumer._client.force_metadata_update()
