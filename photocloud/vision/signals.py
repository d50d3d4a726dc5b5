from django.dispatch import Signal

# Sent when the owner's own classes suggested for some pictures (PhotoAnalysis.taught_category) changed (kwargs:
# photo_ids). They are written by queryset updates, which send no per-picture signal, and search indexes them.
taught_suggestions_changed = Signal()
