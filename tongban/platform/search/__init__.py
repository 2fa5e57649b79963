"""Chinese full-text search shared by the applications (segmentation, pinyin, synonyms)."""
