/// One published file of a data set: its name on every mirror, and the
/// SHA-256 and size its publishers list, which a download must match.
public struct PublishedFile: Sendable, Equatable {
    public let name: String
    public let sha256: String
    public let bytes: Int

    public init(name: String, sha256: String, bytes: Int) {
        self.name = name
        self.sha256 = sha256
        self.bytes = bytes
    }
}

/// A data set Loom can find in its cache or fetch by name: its files, the
/// mirrors that serve them (tried in turn) and the names of its classes.
public struct CatalogEntry: Sendable {
    /// How messages name it (`MNIST`).
    public let title: String
    /// Its folder in the cache (`mnist`).
    public let folder: String
    public let files: [PublishedFile]
    /// Base URLs, each ending in `/`: a file's URL is a base and its name.
    public let mirrors: [String]
    public let classNames: [String]?

    public init(title: String, folder: String, files: [PublishedFile], mirrors: [String], classNames: [String]? = nil) {
        self.title = title
        self.folder = folder
        self.files = files
        self.mirrors = mirrors
        self.classNames = classNames
    }
}

/// The data sets Loom knows by name, with their publishers' checksums.
/// The SHA-256 sums and sizes are those TensorFlow Datasets records for
/// the same files (`url_checksums/mnist.txt`, `fashion_mnist.txt`, `cifar10.txt`).
public enum Catalog {
    /// LeCun and Cortes's handwritten digits, in torchvision's mirror order
    /// (its S3 copy, then LeCun's site) and then TensorFlow's bucket.
    public static let mnist = CatalogEntry(
        title: "MNIST", folder: "mnist",
        files: [
            PublishedFile(name: "train-images-idx3-ubyte.gz",
                          sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", bytes: 9_912_422),
            PublishedFile(name: "train-labels-idx1-ubyte.gz",
                          sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", bytes: 28_881),
            PublishedFile(name: "t10k-images-idx3-ubyte.gz",
                          sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", bytes: 1_648_877),
            PublishedFile(name: "t10k-labels-idx1-ubyte.gz",
                          sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", bytes: 4_542),
        ],
        mirrors: [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ])

    /// Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing.
    public static let fashionMNIST = CatalogEntry(
        title: "Fashion-MNIST", folder: "fashion-mnist",
        files: [
            PublishedFile(name: "train-images-idx3-ubyte.gz",
                          sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", bytes: 26_421_880),
            PublishedFile(name: "train-labels-idx1-ubyte.gz",
                          sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", bytes: 29_515),
            PublishedFile(name: "t10k-images-idx3-ubyte.gz",
                          sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", bytes: 4_422_102),
            PublishedFile(name: "t10k-labels-idx1-ubyte.gz",
                          sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", bytes: 5_148),
        ],
        mirrors: [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ],
        classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])

    /// Krizhevsky's CIFAR-10, the binary version, from its author's site
    /// (the one place it is published); the archive names its classes.
    public static let cifar10 = CatalogEntry(
        title: "CIFAR-10", folder: "cifar-10",
        files: [
            PublishedFile(name: "cifar-10-binary.tar.gz",
                          sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", bytes: 170_052_171),
        ],
        mirrors: ["https://www.cs.toronto.edu/~kriz/"])
}
