"""Models described elsewhere, written in the notation: Hugging Face configurations."""
