"""Files: what users and the bot send as photos and documents, and ``getFile``.

Every file is kept in memory under a ``file_id`` and a ``file_path`` (served by the routing at
``/file/bot<token>/<file_path>``). A photo is stored in two sizes, a thumbnail and the full
size, with the same bytes (nothing is resized). The bot may send a new upload (multipart) or a
stored ``file_id``; a URL is refused, since nothing is reachable from here.
"""

from __future__ import annotations

from sim.botapi.common import MAX_CAPTION_LENGTH, JSONDict, bad_request
from sim.botapi.messages import MessageMethods, add_caption
from sim.botapi.params import Params, UploadedFile
from sim.botapi.state import StoredFile


class FileMethods(MessageMethods):
    """Stored files and the file-bearing messages of ``LocalBotApi``."""

    def _store_file(self, data: bytes, folder: str, suffix: str, mime_type: str) -> StoredFile:
        number = next(self._file_ids)
        stored = StoredFile(
            file_id=f"TMN{folder[:3].upper()}{number:07d}",
            file_unique_id=f"U{number:07d}",
            file_path=f"{folder}/file_{number}{suffix}",
            data=data,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes, width: int, height: int) -> list[JSONDict]:
        sizes: list[JSONDict] = []
        thumb_w = min(width, 90)
        dims = [(thumb_w, max(1, height * thumb_w // max(width, 1))), (width, height)]
        for w, h in dims:
            stored = self._store_file(data, "photos", ".jpg", "image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                }
            )
        return sizes

    def _store_document(self, data: bytes, file_name: str, mime_type: str) -> JSONDict:
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = self._store_file(data, "documents", suffix, mime_type)
        return {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }

    def _resolve_input_file(self, params: Params, name: str) -> UploadedFile | StoredFile:
        value = params.get_input_file(name)
        if value is None:
            raise bad_request(f"there is no {name} in the request")
        if isinstance(value, UploadedFile):
            return value
        stored = self._files.get(value)
        if stored is None:
            # Telegram would fetch an HTTP URL; nothing is reachable from here.
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def _api_sendPhoto(self, params: Params) -> JSONDict:
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        with self._lock:
            user = self._chat_for_bot(params)
            source = self._resolve_input_file(params, "photo")
            if isinstance(source, StoredFile) and source.file_path.startswith("photos/"):
                sizes = [_photo_size_of(source)]
            else:
                sizes = self._store_photo(source.data, 800, 600)
            content: JSONDict = {"photo": sizes}
            add_caption(content, caption, entities)
            return self._bot_message(user, params, content)

    def _api_sendDocument(self, params: Params) -> JSONDict:
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        with self._lock:
            user = self._chat_for_bot(params)
            source = self._resolve_input_file(params, "document")
            if isinstance(source, UploadedFile):
                document = self._store_document(
                    source.data, source.filename or "document", source.content_type
                )
            else:
                document = {
                    "file_name": source.file_path.rsplit("/", 1)[-1],
                    "mime_type": source.mime_type,
                    "file_id": source.file_id,
                    "file_unique_id": source.file_unique_id,
                    "file_size": len(source.data),
                }
            content: JSONDict = {"document": document}
            add_caption(content, caption, entities)
            return self._bot_message(user, params, content)

    def _api_getFile(self, params: Params) -> JSONDict:
        file_id = params.required_str("file_id")
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def _photo_size_of(stored: StoredFile) -> JSONDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "width": 800,
        "height": 600,
    }
