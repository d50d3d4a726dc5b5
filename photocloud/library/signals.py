from django.dispatch import Signal

# Sent by services.process_photo once a picture's metadata and renditions are stored (kwargs: photo).
# Later stages of the pipeline (vision) listen to it, so the library does not depend on them.
photo_processed = Signal()

# Sent when the categories a user gave their pictures may have changed (kwargs: owner), e.g. to retrain what the
# vision app learned from them.
labels_changed = Signal()

# Sent when delete_album moved an album's pictures into another one by a queryset update, which sends no signal per
# picture (kwargs: album, where they are now), so listeners update only those pictures.
photos_moved = Signal()
