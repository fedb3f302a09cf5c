"""File formats: design files (JSON), project files (safetensors with a JSON header), our
safetensors reader/writer, crash-recovery copies, and bringing a saved run back."""
