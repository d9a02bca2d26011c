"""OCI Distribution Spec 1.1 over raw HTTP: blob uploads.

Monolithic POST (end-4b), POST then PUT (end-4a/end-6), chunked PATCH (end-5), upload status
(end-13), cancel, and cross-repository mount (end-11), against the real `moorage serve`.
"""

from __future__ import annotations

import os
import socket

import httpx
import pytest

from tests.support.registry_http import API_VERSION, assert_error, digest_of, push_blob
from tests.support.server import Server

REPO_PREFIX = "uploads"
OCTETS = {"Content-Type": "application/octet-stream"}


def start_upload(client: httpx.Client, name: str) -> str:
    """POST a new upload session; returns its Location."""
    r = client.post(f"/v2/{name}/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    assert location.startswith(f"/v2/{name}/blobs/uploads/")
    assert r.headers["Range"] == "0-0"
    assert r.headers["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]
    assert r.content == b""
    return location


def patch_chunk(client: httpx.Client, location: str, chunk: bytes, start: int) -> httpx.Response:
    return client.patch(
        location,
        content=chunk,
        headers=OCTETS | {"Content-Range": f"{start}-{start + len(chunk) - 1}"},
    )


def assert_blob(client: httpx.Client, name: str, data: bytes, algorithm: str = "sha256") -> None:
    r = client.get(f"/v2/{name}/blobs/{digest_of(data, algorithm)}")
    assert r.status_code == 200, r.text
    assert r.content == data


def assert_no_blob(client: httpx.Client, name: str, digest: str) -> None:
    assert client.head(f"/v2/{name}/blobs/{digest}").status_code == 404


def assert_created(response: httpx.Response, name: str, digest: str) -> None:
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v2/{name}/blobs/{digest}"
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.headers[API_VERSION[0]] == API_VERSION[1]


# -- monolithic ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
@pytest.mark.parametrize("size", [0, 1, 65_536, 3 * 1024 * 1024 + 7])
def test_monolithic_post(client: httpx.Client, repo: str, algorithm: str, size: int) -> None:
    data = os.urandom(size)
    digest = digest_of(data, algorithm)
    r = client.post(
        f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data, headers=OCTETS
    )
    assert_created(r, repo, digest)
    assert_blob(client, repo, data, algorithm)


def test_monolithic_post_streamed_body(client: httpx.Client, repo: str) -> None:
    """A body sent with Transfer-Encoding: chunked, as streaming clients do."""
    data = os.urandom(200_000)
    digest = digest_of(data)
    r = client.post(
        f"/v2/{repo}/blobs/uploads/",
        params={"digest": digest},
        content=iter([data[:1000], data[1000:150_000], data[150_000:]]),
        headers=OCTETS,
    )
    assert_created(r, repo, digest)
    assert_blob(client, repo, data)


def test_monolithic_post_again_is_idempotent(client: httpx.Client, repo: str) -> None:
    data = os.urandom(1000)
    digest = digest_of(data)
    for _ in range(2):
        r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
        assert_created(r, repo, digest)
    assert_blob(client, repo, data)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_monolithic_post_wrong_digest(client: httpx.Client, repo: str, algorithm: str) -> None:
    data = os.urandom(1000)
    claimed = digest_of(b"something else", algorithm)
    r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": claimed}, content=data)
    error = assert_error(r, 400, "DIGEST_INVALID")
    assert error["detail"] == {"digest": claimed}
    assert_no_blob(client, repo, claimed)
    assert_no_blob(client, repo, digest_of(data, algorithm))


# -- POST then PUT -------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_post_then_put(client: httpx.Client, repo: str, algorithm: str) -> None:
    data = os.urandom(100_000)
    digest = digest_of(data, algorithm)
    location = start_upload(client, repo)
    r = client.put(location, params={"digest": digest}, content=data, headers=OCTETS)
    assert_created(r, repo, digest)
    assert_blob(client, repo, data, algorithm)


def test_post_then_put_empty_blob(client: httpx.Client, repo: str) -> None:
    location = start_upload(client, repo)
    digest = digest_of(b"")
    assert_created(client.put(location, params={"digest": digest}), repo, digest)
    assert_blob(client, repo, b"")


def test_post_without_trailing_slash(client: httpx.Client, repo: str) -> None:
    r = client.post(f"/v2/{repo}/blobs/uploads")
    assert r.status_code == 202
    assert r.headers["Location"].startswith(f"/v2/{repo}/blobs/uploads/")


def test_upload_ids_are_unique(client: httpx.Client, repo: str) -> None:
    locations = {start_upload(client, repo) for _ in range(5)}
    assert len(locations) == 5


def test_completed_upload_is_gone(client: httpx.Client, repo: str) -> None:
    data = os.urandom(10)
    location = start_upload(client, repo)
    assert client.put(location, params={"digest": digest_of(data)}, content=data).status_code == 201
    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(
        client.put(location, params={"digest": digest_of(data)}, content=data),
        404,
        "BLOB_UPLOAD_UNKNOWN",
    )


# -- chunked -------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_chunked_upload(client: httpx.Client, repo: str, algorithm: str) -> None:
    data = os.urandom(250_000)
    digest = digest_of(data, algorithm)
    location = start_upload(client, repo)
    offset = 0
    for size in (1, 99_999, 100_000, 50_000):
        chunk = data[offset : offset + size]
        r = patch_chunk(client, location, chunk, offset)
        assert r.status_code == 202, r.text
        offset += size
        assert r.headers["Range"] == f"0-{offset - 1}"
        assert r.headers["Content-Length"] == "0"
        location = r.headers["Location"]  # clients must follow the latest Location
        assert location.startswith(f"/v2/{repo}/blobs/uploads/")
    r = client.put(location, params={"digest": digest})
    assert_created(r, repo, digest)
    assert_blob(client, repo, data, algorithm)


def test_chunked_upload_last_chunk_on_put(client: httpx.Client, repo: str) -> None:
    data = os.urandom(30_000)
    digest = digest_of(data)
    location = start_upload(client, repo)
    r = patch_chunk(client, location, data[:20_000], 0)
    assert r.status_code == 202
    r = client.put(
        r.headers["Location"],
        params={"digest": digest},
        content=data[20_000:],
        headers=OCTETS | {"Content-Range": f"20000-{len(data) - 1}"},
    )
    assert_created(r, repo, digest)
    assert_blob(client, repo, data)


def test_streamed_patch_without_content_range(client: httpx.Client, repo: str) -> None:
    """Docker's streamed upload: PATCH bodies with no Content-Range, appended in order."""
    data = os.urandom(120_000)
    location = start_upload(client, repo)
    r = client.patch(location, content=data[:70_000], headers=OCTETS)
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == "0-69999"
    r = client.patch(r.headers["Location"], content=iter([data[70_000:]]), headers=OCTETS)
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == f"0-{len(data) - 1}"
    digest = digest_of(data)
    assert_created(client.put(r.headers["Location"], params={"digest": digest}), repo, digest)
    assert_blob(client, repo, data)


@pytest.mark.parametrize(
    "content_range", ["0-9", "bytes 0-9", "bytes=0-9", "0-9/10", "bytes 0-9/*"]
)
def test_content_range_forms(client: httpx.Client, repo: str, content_range: str) -> None:
    data = os.urandom(10)
    location = start_upload(client, repo)
    r = client.patch(location, content=data, headers={"Content-Range": content_range})
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == "0-9"


@pytest.mark.parametrize(
    ("start", "why"),
    [(5, "overlaps the bytes already sent"), (20, "leaves a gap"), (0, "starts over")],
)
def test_chunk_out_of_order(client: httpx.Client, repo: str, start: int, why: str) -> None:
    data = os.urandom(10)
    location = start_upload(client, repo)
    r = patch_chunk(client, location, data, 0)
    assert r.status_code == 202
    location = r.headers["Location"]
    r = patch_chunk(client, location, os.urandom(10), start)
    error = assert_error(r, 416, "RANGE_INVALID")
    assert r.headers["Range"] == "0-9", why
    assert error["detail"] == {"size": 10}
    # The upload is intact and goes on from where it was.
    assert client.get(location).headers["Range"] == "0-9"
    more = os.urandom(5)
    assert patch_chunk(client, location, more, 10).status_code == 202
    digest = digest_of(data + more)
    assert_created(client.put(location, params={"digest": digest}), repo, digest)


def test_first_chunk_not_at_zero(client: httpx.Client, repo: str) -> None:
    location = start_upload(client, repo)
    r = patch_chunk(client, location, os.urandom(10), 1)
    assert_error(r, 416, "RANGE_INVALID")
    assert r.headers["Range"] == "0-0"


def test_last_chunk_on_put_out_of_order(client: httpx.Client, repo: str) -> None:
    data = os.urandom(20)
    location = start_upload(client, repo)
    assert patch_chunk(client, location, data[:10], 0).status_code == 202
    r = client.put(
        location,
        params={"digest": digest_of(data)},
        content=data[10:],
        headers={"Content-Range": "11-20"},
    )
    assert_error(r, 416, "RANGE_INVALID")
    assert r.headers["Range"] == "0-9"
    assert client.get(location).headers["Range"] == "0-9"


@pytest.mark.parametrize(
    "content_range",
    ["abc", "0-", "-9", "bytes 0-x", "9-0", "0-9-10", "bytes=0-9,20-29", "0 - 9"],
)
def test_malformed_content_range(client: httpx.Client, repo: str, content_range: str) -> None:
    location = start_upload(client, repo)
    r = client.patch(location, content=os.urandom(10), headers={"Content-Range": content_range})
    error = assert_error(r, 416, "RANGE_INVALID")
    assert error["detail"] == {"range": content_range}
    assert client.get(location).headers["Range"] == "0-0"  # nothing was appended


@pytest.mark.parametrize(
    ("content_range", "body_size"),
    [("0-9", 5), ("0-4", 10), ("0-0", 2)],
)
def test_content_length_disagrees_with_content_range(
    client: httpx.Client, repo: str, content_range: str, body_size: int
) -> None:
    location = start_upload(client, repo)
    r = client.patch(
        location, content=os.urandom(body_size), headers={"Content-Range": content_range}
    )
    assert_error(r, 400, "SIZE_INVALID")
    assert client.get(location).headers["Range"] == "0-0"  # nothing was appended


@pytest.mark.parametrize("body_size", [5, 20])
def test_streamed_chunk_disagrees_with_content_range(
    client: httpx.Client, repo: str, body_size: int
) -> None:
    """No Content-Length (chunked transfer): the length is known only once the body is in."""
    location = start_upload(client, repo)
    r = client.patch(
        location, content=iter([os.urandom(body_size)]), headers={"Content-Range": "0-9"}
    )
    error = assert_error(r, 400, "SIZE_INVALID")
    assert error["detail"] == {"received": body_size, "declared": 10}
    assert client.get(location).headers["Range"] == "0-0"  # a refused chunk leaves no trace


def test_content_length_disagrees_with_content_range_on_put(
    client: httpx.Client, repo: str
) -> None:
    data = os.urandom(10)
    location = start_upload(client, repo)
    r = client.put(
        location,
        params={"digest": digest_of(data)},
        content=data,
        headers={"Content-Range": "0-19"},
    )
    assert_error(r, 400, "SIZE_INVALID")
    assert client.get(location).status_code == 204  # the upload is still there


def send_truncated(
    server: Server, method: str, path: str, data: bytes, sent: int, extra: str = ""
) -> None:
    """Declare all of `data` in Content-Length, send only `sent` bytes, and hang up."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {server.address}\r\n{extra}"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(head.encode() + data[:sent])


def test_truncated_monolithic_post(client: httpx.Client, shared_server: Server, repo: str) -> None:
    data = os.urandom(3 * 1024 * 1024)
    digest = digest_of(data)
    send_truncated(
        shared_server, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", data, 2_000_000
    )
    assert_no_blob(client, repo, digest)
    # The registry still takes the whole blob afterwards.
    r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
    assert_created(r, repo, digest)
    assert_blob(client, repo, data)


def test_resume_after_truncated_chunk(
    client: httpx.Client, shared_server: Server, repo: str
) -> None:
    """A PATCH cut short keeps what arrived; the client resumes where the Range says."""
    data = os.urandom(3 * 1024 * 1024)
    location = start_upload(client, repo)
    # With a Content-Range, the cut chunk cannot land after the resumed one if it comes late.
    content_range = f"Content-Range: 0-{len(data) - 1}\r\n"
    send_truncated(shared_server, "PATCH", location, data, 2 * 1024 * 1024 + 5, content_range)
    end = int(client.get(location).headers["Range"].split("-")[1])
    for _ in range(50):  # the cut request may still be landing: a 416 says where it ended
        offset = end + 1 if end else 0  # "0-0" is an empty upload here, never a 1-byte one
        r = patch_chunk(client, location, data[offset:], offset)
        if r.status_code == 202:
            break
        assert_error(r, 416, "RANGE_INVALID")
        end = int(r.headers["Range"].split("-")[1])
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == f"0-{len(data) - 1}"
    digest = digest_of(data)
    assert_created(client.put(location, params={"digest": digest}), repo, digest)
    assert_blob(client, repo, data)


# -- status --------------------------------------------------------------------------------


def test_upload_status(client: httpx.Client, repo: str) -> None:
    location = start_upload(client, repo)
    r = client.get(location)
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["Location"] == location
    assert r.headers["Range"] == "0-0"
    assert r.headers["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]

    assert patch_chunk(client, location, os.urandom(1234), 0).status_code == 202
    r = client.get(location)
    assert r.status_code == 204
    assert r.headers["Location"] == location
    assert r.headers["Range"] == "0-1233"


def test_resume_from_status(client: httpx.Client, repo: str) -> None:
    """A client that lost track of its upload asks where it stands and goes on from there."""
    data = os.urandom(5000)
    location = start_upload(client, repo)
    assert patch_chunk(client, location, data[:3000], 0).status_code == 202
    status = client.get(location)
    end = int(status.headers["Range"].split("-")[1])
    r = patch_chunk(client, status.headers["Location"], data[end + 1 :], end + 1)
    assert r.status_code == 202
    digest = digest_of(data)
    assert_created(client.put(r.headers["Location"], params={"digest": digest}), repo, digest)
    assert_blob(client, repo, data)


# -- cancel and unknown uploads ------------------------------------------------------------


def test_cancel_upload(client: httpx.Client, repo: str) -> None:
    data = os.urandom(100)
    location = start_upload(client, repo)
    assert patch_chunk(client, location, data, 0).status_code == 202
    r = client.delete(location)
    assert r.status_code == 204
    assert r.content == b""
    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(patch_chunk(client, location, data, 100), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(
        client.put(location, params={"digest": digest_of(data)}), 404, "BLOB_UPLOAD_UNKNOWN"
    )
    assert_error(client.delete(location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_no_blob(client, repo, digest_of(data))


UNKNOWN_IDS = ["nosuchupload", "A" * 32, "x" * 65, "-_-", "0"]


@pytest.mark.parametrize("upload_id", UNKNOWN_IDS)
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_unknown_upload(client: httpx.Client, repo: str, method: str, upload_id: str) -> None:
    start_upload(client, repo)  # the repository exists; that upload does not
    params = {"digest": digest_of(b"abc")} if method == "PUT" else {}
    content = b"abc" if method in ("PATCH", "PUT") else None
    r = client.request(
        method, f"/v2/{repo}/blobs/uploads/{upload_id}", params=params, content=content
    )
    assert_error(r, 404, "BLOB_UPLOAD_UNKNOWN")


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_upload_of_another_repository(client: httpx.Client, repo: str, method: str) -> None:
    data = os.urandom(10)
    location = start_upload(client, repo)
    upload_id = location.rsplit("/", 1)[1]
    start_upload(client, f"{repo}-other")
    params = {"digest": digest_of(data)} if method == "PUT" else {}
    content = data if method in ("PATCH", "PUT") else None
    r = client.request(
        method, f"/v2/{repo}-other/blobs/uploads/{upload_id}", params=params, content=content
    )
    assert_error(r, 404, "BLOB_UPLOAD_UNKNOWN")
    # The upload is untouched and still completes in its own repository.
    assert client.get(location).headers["Range"] == "0-0"
    assert_created(
        client.put(location, params={"digest": digest_of(data)}, content=data),
        repo,
        digest_of(data),
    )
    assert_no_blob(client, f"{repo}-other", digest_of(data))


# -- PUT without or with a wrong digest ----------------------------------------------------


def test_put_without_digest(client: httpx.Client, repo: str) -> None:
    data = os.urandom(10)
    location = start_upload(client, repo)
    assert patch_chunk(client, location, data, 0).status_code == 202
    assert_error(client.put(location), 400, "DIGEST_INVALID")
    # Nothing was lost: the upload still completes.
    assert client.get(location).headers["Range"] == "0-9"
    digest = digest_of(data)
    assert_created(client.put(location, params={"digest": digest}), repo, digest)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:0123",
        "sha256:" + "A" * 64,
        "md5:" + "0" * 32,
        "sha512:" + "0" * 64,
        "nodigest",
        "",
    ],
)
def test_put_with_malformed_digest(client: httpx.Client, repo: str, digest: str) -> None:
    location = start_upload(client, repo)
    r = client.put(location, params={"digest": digest}, content=b"abc")
    assert_error(r, 400, "DIGEST_INVALID")


@pytest.mark.parametrize("with_body", [True, False])
@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_put_with_wrong_digest(
    client: httpx.Client, repo: str, with_body: bool, algorithm: str
) -> None:
    data = os.urandom(1000)
    location = start_upload(client, repo)
    if not with_body:
        assert patch_chunk(client, location, data, 0).status_code == 202
    wrong = digest_of(b"not the content", algorithm)
    r = client.put(location, params={"digest": wrong}, content=data if with_body else None)
    error = assert_error(r, 400, "DIGEST_INVALID")
    assert error["detail"] == {"digest": wrong}
    assert_no_blob(client, repo, wrong)
    assert_no_blob(client, repo, digest_of(data, algorithm))
    # moorage discards an upload whose content failed verification; the client starts over.
    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")


@pytest.mark.parametrize(
    "digest", ["sha256:0123", "sha256:" + "A" * 64, "md5:" + "0" * 32, "nodigest"]
)
def test_monolithic_post_malformed_digest(client: httpx.Client, repo: str, digest: str) -> None:
    r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=b"abc")
    assert_error(r, 400, "DIGEST_INVALID")


# -- mount ---------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_mount_from_repository(client: httpx.Client, repo: str, algorithm: str) -> None:
    data = os.urandom(4096)
    digest = digest_of(data, algorithm)
    source = f"{repo}/source"
    r = client.post(f"/v2/{source}/blobs/uploads/", params={"digest": digest}, content=data)
    assert r.status_code == 201
    target = f"{repo}/target"
    r = client.post(f"/v2/{target}/blobs/uploads/", params={"mount": digest, "from": source})
    assert_created(r, target, digest)
    assert_blob(client, target, data, algorithm)
    assert_blob(client, source, data, algorithm)


def test_mount_without_from(client: httpx.Client, repo: str) -> None:
    data = os.urandom(4096)
    digest = push_blob(client, f"{repo}/somewhere", data)
    target = f"{repo}/target"
    r = client.post(f"/v2/{target}/blobs/uploads/", params={"mount": digest})
    assert_created(r, target, digest)
    assert_blob(client, target, data)


def test_mount_into_repository_holding_it(client: httpx.Client, repo: str) -> None:
    data = os.urandom(100)
    digest = push_blob(client, repo, data)
    r = client.post(f"/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": repo})
    assert_created(r, repo, digest)


def test_mounted_blob_survives_delete_in_source(client: httpx.Client, repo: str) -> None:
    data = os.urandom(100)
    digest = push_blob(client, f"{repo}/source", data)
    r = client.post(
        f"/v2/{repo}/target/blobs/uploads/", params={"mount": digest, "from": f"{repo}/source"}
    )
    assert r.status_code == 201
    assert client.delete(f"/v2/{repo}/source/blobs/{digest}").status_code == 202
    assert_blob(client, f"{repo}/target", data)


def assert_fallback_upload(client: httpx.Client, response: httpx.Response, name: str) -> None:
    """A mount the registry cannot do opens an ordinary upload session instead (202)."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location.startswith(f"/v2/{name}/blobs/uploads/")
    data = os.urandom(300)
    digest = digest_of(data)
    r = client.put(location, params={"digest": digest}, content=data, headers=OCTETS)
    assert_created(r, name, digest)
    assert_blob(client, name, data)


def test_mount_from_repository_lacking_the_blob(client: httpx.Client, repo: str) -> None:
    data = os.urandom(100)
    digest = push_blob(client, f"{repo}/holder", data)
    push_blob(client, f"{repo}/empty", b"another blob")
    target = f"{repo}/target"
    r = client.post(
        f"/v2/{target}/blobs/uploads/", params={"mount": digest, "from": f"{repo}/empty"}
    )
    assert_fallback_upload(client, r, target)
    assert_no_blob(client, target, digest)


def test_mount_of_unknown_blob(client: httpx.Client, repo: str) -> None:
    digest = digest_of(os.urandom(16))
    r = client.post(f"/v2/{repo}/blobs/uploads/", params={"mount": digest})
    assert_fallback_upload(client, r, repo)
    assert_no_blob(client, repo, digest)


@pytest.mark.parametrize(
    ("mount", "source"),
    [
        ("sha256:0123", "uploads/anything"),
        ("md5:" + "0" * 32, None),
        ("sha256:" + "A" * 64, None),
        ("", None),
        ("sha256:" + "0" * 64, "Invalid/Name"),
        ("sha256:" + "0" * 64, ""),
    ],
)
def test_mount_with_invalid_arguments(
    client: httpx.Client, repo: str, mount: str, source: str | None
) -> None:
    params = {"mount": mount} | ({"from": source} if source is not None else {})
    r = client.post(f"/v2/{repo}/blobs/uploads/", params=params)
    assert_fallback_upload(client, r, repo)
