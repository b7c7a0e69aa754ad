"""Metering: derivative uses reported by brands, priced by their licence, posted to the
ledger and answered with receipts signed by the platform (Ed25519), which can be
embedded in the media file as a C2PA manifest."""
