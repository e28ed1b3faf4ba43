"""In-the-wild video: checks and tools for poses lifted without ground truth."""
