"""Payment adapters of Chinese providers: WeChat Pay (API v3, Native) and Alipay (Open Platform).

Each module cites the provider's documentation it follows. ``_http`` holds what both need: keys
pasted as PEM text, SHA256withRSA signatures, and one HTTP call with the standard library.
"""
