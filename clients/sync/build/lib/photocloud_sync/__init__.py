"""The Photocloud sync client alone: photocloud/sync/client.py and files.py of the server's repository (linked here, so
there is one copy of the code), installable without Django or torch: `pip install ./clients/sync`."""
