//! The word lists values are drawn from. ASCII only, so e-mail addresses built from names
//! need no transliteration.

/// Given names.
#[rustfmt::skip]
pub(crate) const FIRST_NAMES: &[&str] = &[
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Sandra", "Paul", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda",
    "Kevin", "Melissa", "Brian", "Olivia", "Lucas", "Sofia", "Mateo", "Emma", "Noah", "Mia",
    "Liam", "Hannah", "Ethan", "Chloe", "Luca", "Aisha", "Omar", "Fatima", "Hiroshi", "Yuki",
    "Wei", "Mei", "Arjun", "Priya", "Ivan", "Elena", "Lars", "Ingrid", "Pierre", "Camille",
    "Diego", "Lucia", "Kwame", "Amara", "Anna", "Jonas",
];

/// Family names.
#[rustfmt::skip]
pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Muller", "Schmidt", "Rossi",
    "Bianchi", "Dubois", "Moreau", "Tanaka", "Suzuki", "Kim", "Park", "Chen", "Wang", "Patel",
    "Singh", "Kowalski", "Novak", "Jensen", "Larsen", "Okafor", "Mensah", "O'Brien",
    "Van der Berg",
];

/// Cities with the country they are in, so a row's city and country agree.
#[rustfmt::skip]
pub(crate) const PLACES: &[(&str, &str)] = &[
    ("New York", "United States"), ("Los Angeles", "United States"),
    ("Chicago", "United States"), ("Houston", "United States"), ("Seattle", "United States"),
    ("Toronto", "Canada"), ("Vancouver", "Canada"), ("Montreal", "Canada"),
    ("Mexico City", "Mexico"), ("Guadalajara", "Mexico"), ("Sao Paulo", "Brazil"),
    ("Rio de Janeiro", "Brazil"), ("Buenos Aires", "Argentina"), ("Santiago", "Chile"),
    ("Bogota", "Colombia"), ("Lima", "Peru"), ("London", "United Kingdom"),
    ("Manchester", "United Kingdom"), ("Edinburgh", "United Kingdom"), ("Dublin", "Ireland"),
    ("Paris", "France"), ("Lyon", "France"), ("Berlin", "Germany"), ("Munich", "Germany"),
    ("Hamburg", "Germany"), ("Madrid", "Spain"), ("Barcelona", "Spain"), ("Lisbon", "Portugal"),
    ("Rome", "Italy"), ("Milan", "Italy"), ("Amsterdam", "Netherlands"),
    ("Brussels", "Belgium"), ("Zurich", "Switzerland"), ("Vienna", "Austria"),
    ("Stockholm", "Sweden"), ("Oslo", "Norway"), ("Copenhagen", "Denmark"),
    ("Helsinki", "Finland"), ("Warsaw", "Poland"), ("Prague", "Czech Republic"),
    ("Athens", "Greece"), ("Istanbul", "Turkey"), ("Cairo", "Egypt"), ("Lagos", "Nigeria"),
    ("Nairobi", "Kenya"), ("Cape Town", "South Africa"), ("Dubai", "United Arab Emirates"),
    ("Mumbai", "India"), ("Bangalore", "India"), ("Singapore", "Singapore"),
    ("Bangkok", "Thailand"), ("Jakarta", "Indonesia"), ("Manila", "Philippines"),
    ("Seoul", "South Korea"), ("Tokyo", "Japan"), ("Osaka", "Japan"), ("Shanghai", "China"),
    ("Beijing", "China"), ("Sydney", "Australia"), ("Melbourne", "Australia"),
    ("Auckland", "New Zealand"),
];

/// E-mail domains: all under the names reserved for examples (RFC 2606), so generated
/// addresses can never reach a real mailbox if a test sends mail to them.
#[rustfmt::skip]
pub(crate) const EMAIL_DOMAINS: &[&str] = &[
    "example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net",
    "post.example.org",
];

/// First words of product names.
#[rustfmt::skip]
pub(crate) const PRODUCT_ADJECTIVES: &[&str] = &[
    "Ergonomic", "Rustic", "Sleek", "Practical", "Intelligent", "Gorgeous", "Incredible",
    "Fantastic", "Handcrafted", "Refined", "Durable", "Lightweight", "Compact", "Premium",
    "Modern", "Classic", "Elegant", "Recycled", "Small", "Large", "Heavy Duty", "Portable",
];

/// Materials, the middle word of product names.
#[rustfmt::skip]
pub(crate) const PRODUCT_MATERIALS: &[&str] = &[
   
    "Steel", "Wooden", "Cotton", "Granite", "Plastic", "Concrete", "Rubber", "Leather", "Bamboo",
    "Aluminum", "Glass", "Wool", "Marble", "Bronze", "Ceramic", "Silk", "Linen", "Carbon",
];

/// Product nouns with the category they belong to.
#[rustfmt::skip]
pub(crate) const PRODUCT_NOUNS: &[(&str, &str)] = &[
    ("Chair", "Furniture"), ("Table", "Furniture"), ("Desk", "Furniture"),
    ("Bench", "Furniture"), ("Shelf", "Furniture"), ("Keyboard", "Electronics"),
    ("Mouse", "Electronics"), ("Headphones", "Electronics"), ("Speaker", "Electronics"),
    ("Monitor Stand", "Electronics"), ("Shirt", "Clothing"), ("Jacket", "Clothing"),
    ("Hat", "Clothing"), ("Shoes", "Clothing"), ("Gloves", "Clothing"), ("Bag", "Accessories"),
    ("Wallet", "Accessories"), ("Watch", "Accessories"), ("Sunglasses", "Accessories"),
    ("Bottle", "Kitchen"), ("Mug", "Kitchen"), ("Knife", "Kitchen"), ("Pan", "Kitchen"),
    ("Bowl", "Kitchen"), ("Ball", "Sports"), ("Bike", "Sports"), ("Yoga Mat", "Sports"),
    ("Lamp", "Home"), ("Towel", "Home"), ("Pillow", "Home"), ("Clock", "Home"),
    ("Vase", "Home"), ("Puzzle", "Toys"), ("Kite", "Toys"),
];

/// Endings of company names.
#[rustfmt::skip]
pub(crate) const COMPANY_SUFFIXES: &[&str] = &[
    "Inc", "LLC", "Ltd", "Group", "Holdings", "Partners", "& Co", "Labs", "Systems",
    "Industries", "Solutions", "Logistics", "Consulting", "Trading",
];

/// Invented first words of company names.
#[rustfmt::skip]
pub(crate) const COMPANY_PREFIXES: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Northwind", "Blue River", "Silverline", "Redwood",
    "Summit", "Pinnacle", "Brightpath", "Ironclad", "Evergreen", "Starlight", "Cobalt",
    "Vertex",
];

/// Filler words for `text` columns.
#[rustfmt::skip]
pub(crate) const LOREM: &[&str] = &[
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
    "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua",
    "enim", "ad", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris",
    "nisi", "aliquip", "ex", "ea", "commodo", "consequat", "duis", "aute", "irure", "in",
    "reprehenderit", "voluptate", "velit", "esse", "cillum", "fugiat", "nulla", "pariatur",
    "excepteur", "sint", "occaecat", "cupidatat", "non", "proident", "sunt", "culpa", "qui",
    "officia", "deserunt", "mollit", "anim", "id", "est", "laborum",
];
