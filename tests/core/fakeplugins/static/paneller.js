document.documentElement.dataset.paneller = "loaded";
